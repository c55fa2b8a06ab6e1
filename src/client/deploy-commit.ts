import type { EparaError } from '../errors.js';
import type { DeployOfferMessage, DeployResultMessage } from '../protocol/index.js';
import type { ArtifactRecord, ArtifactStore } from './artifact-store.js';
import { asEparaError, deployError, wireOf } from './client-errors.js';
import type { DeployedEvent, ServiceInfo } from './device.js';
import type { ServiceQueue } from './inference.js';
import type { ServiceRunner } from './runner.js';

/**
 * The device side of DEPLOY_COMMIT (SPEC §7.5): verify, load, warm up, activate — or keep serving
 * the previous version and say so. Idempotent: a COMMIT repeated after either side crashed (the
 * server re-offers what its record says is unsettled) answers with what the device really runs,
 * and no failure of a new version ever marks the service that keeps serving as failed.
 */
export interface ServiceEntry extends ServiceInfo {
  runner?: ServiceRunner;
  queue?: ServiceQueue;
  record?: ArtifactRecord;
}

export interface CommitHost {
  store(): ArtifactStore;
  services(): Map<string, ServiceEntry>;
  /** A DEPLOY_RESULT progress notification (verifying, loading). */
  notify(m: DeployResultMessage): void;
  forgetTransfer(deploymentId: number): void;
  loadRunner(record: ArtifactRecord): Promise<ServiceRunner>;
  install(record: ArtifactRecord, runner: ServiceRunner): void;
  deployed(e: DeployedEvent): void;
  /** Services changed: report STATE soon. */
  changed(): void;
}

export async function commitDeployment(h: CommitHost, offer: DeployOfferMessage): Promise<DeployResultMessage> {
  const id = offer.deploymentId;
  const services = h.services();
  const store = h.store();
  const progress = (state: 'verifying' | 'loading') => h.notify({ type: 'DEPLOY_RESULT', deploymentId: id, state });
  // What serves now, read before anything can fail: a failure of the new version never touches it.
  const before = services.get(offer.service);
  progress('verifying');
  let record: ArtifactRecord;
  try {
    record = await store.finish(id, { ...offer, meta: offer.meta as Record<string, unknown> | undefined });
  } catch (e) {
    const err = asEparaError(e, (m) => deployError('deploy.hash_mismatch', { reason: m, hint: 'redeploy', cause: e }));
    // A hash mismatch discarded the partial: the next offer starts again from 0.
    if (err.code === 'deploy.hash_mismatch') h.forgetTransfer(id);
    return failed(h, offer, err, before, 'verify');
  }
  h.forgetTransfer(id);
  // Already what this device serves (a COMMIT repeated after either side crashed, or the same
  // bytes deployed again): answer ready without reloading, so a working service never blinks.
  if (before?.status === 'ready' && before.record?.sha256 === record.sha256) {
    await store.activate(record);
    services.set(offer.service, { ...before, version: offer.version, record });
    h.changed();
    return { type: 'DEPLOY_RESULT', deploymentId: id, state: 'ready', activeVersion: offer.version };
  }
  progress('loading');
  if (!before || before.status !== 'ready') services.set(offer.service, { name: offer.service, version: offer.version, status: 'loading', kind: offer.kind });
  h.changed();
  let runner: ServiceRunner;
  try {
    runner = await h.loadRunner(record);
  } catch (e) {
    await store.reject(record);
    const err = asEparaError(e, (m) => deployError('deploy.load_failed', { reason: m, hint: 'check the artifact loads on this runtime', cause: e }));
    return failed(h, offer, err, before, 'load');
  }
  await store.activate(record);
  h.install(record, runner);
  h.deployed({ service: offer.service, version: offer.version, state: 'ready' });
  return { type: 'DEPLOY_RESULT', deploymentId: id, state: 'ready', activeVersion: offer.version };
}

function failed(h: CommitHost, offer: DeployOfferMessage, err: EparaError, before: ServiceEntry | undefined, stage: 'verify' | 'load'): DeployResultMessage {
  const code = wireOf(err);
  const services = h.services();
  if (stage === 'verify' && before) {
    // The new bytes never got near the runtime: whatever the service was (ready, unloaded), it
    // still is, and a version that serves is named (SPEC §7.5 failed: the previous keeps serving).
    const serving = before.status === 'ready';
    h.deployed({ service: offer.service, version: serving ? before.version : offer.version, state: 'failed', error: err });
    h.changed();
    return { type: 'DEPLOY_RESULT', deploymentId: offer.deploymentId, state: 'failed', code, ...(serving ? { activeVersion: before.version } : {}) };
  }
  if (before && before.status === 'ready') {
    // The previous version never stopped serving: that is the rollback.
    services.set(offer.service, before);
    h.deployed({ service: offer.service, version: before.version, state: 'rolled-back', error: err });
    h.changed();
    return { type: 'DEPLOY_RESULT', deploymentId: offer.deploymentId, state: 'rolled-back', code, activeVersion: before.version };
  }
  if (!before || before.status === 'loading') services.set(offer.service, { name: offer.service, version: offer.version, status: 'failed', kind: offer.kind });
  h.deployed({ service: offer.service, version: offer.version, state: 'failed', error: err });
  h.changed();
  return { type: 'DEPLOY_RESULT', deploymentId: offer.deploymentId, state: 'failed', code };
}
