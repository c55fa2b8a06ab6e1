import { DeployError, EparaError } from '../../errors.js';
import { errorInfo, WIRE, type DeployResultMessage, type Message } from '../../protocol/index.js';
import type { DeploymentRecord, DeploymentState, RegistryStore } from '../registry/store.js';
import type { ArtifactStore } from './artifact-store.js';
import type { ArtifactReader } from './artifact-reader.js';
import { offerChunkSize, sendOverLink, type ChunkLink } from './link-sender.js';
import { wakeableSleep } from '../../transport/wakeable-sleep.js';
import { DEPLOYMENT_TRANSITIONS, nextDeploymentState, resultEvent, SETTLED_DEPLOYMENT_STATES, type DeploymentEvent } from './state-machine.js';

/**
 * Runs one deployment over one device link: OFFER → ACCEPT (the device's persisted offset) →
 * go-back-N chunks → COMMIT → DEPLOY_RESULT(s) until ready / failed / rolled-back. Every state
 * change is committed to the registry before the next message goes out, and transfer offsets are
 * recorded (batched) as acks arrive, so a server killed at any point resumes from the record.
 *
 * A link failure leaves the deployment unsettled (it resumes when the device is back); a device
 * refusal or a failed load settles it.
 */
/** Device answers that mean "not now" rather than "no". */
export const RETRYABLE: ReadonlySet<string> = new Set(['deploy.busy', 'busy']);

export type DeployLink = ChunkLink;

export interface DeploymentProgress {
  deploymentId: number;
  deviceId: string;
  service: string;
  version: string;
  state: DeploymentState;
  /** Bytes the device has acknowledged. */
  offset: number;
  size: number;
  /** Where this attempt started (> 0 when it resumed). */
  resumedFrom?: number;
  /** Set when the link dropped: the deployment waits for the device to come back. */
  interrupted?: boolean;
  errorCode?: string;
}

export interface DeployerOptions {
  /** Largest chunk to send, before the frame-size limit. */
  chunkSize: number;
  /** How long to wait for the final DEPLOY_RESULT after COMMIT (verify + load + warm-up). */
  resultTimeoutMs: number;
  requestTimeoutMs?: number;
}

export interface DeployerHooks {
  progress(p: DeploymentProgress): void;
  bytesSent(deviceId: string, n: number): void;
}

export class Deployer {
  /** DEPLOY_RESULT notifications for running deployments, by deployment id, with the device each belongs to. */
  private readonly inbox = new Map<number, ResultBox>();

  constructor(
    private readonly store: RegistryStore,
    private readonly artifacts: ArtifactStore,
    private readonly hooks: DeployerHooks,
    private readonly opts: DeployerOptions,
  ) {}

  /**
   * Feed a DEPLOY_RESULT notification from `deviceId` (the sending session's device). Only the
   * device a deployment belongs to may move it: a result for another device's deployment is
   * refused ('wrong_device') and never reaches that deployment. 'unclaimed' when nobody waits.
   */
  onResult(deviceId: string, r: DeployResultMessage): 'accepted' | 'unclaimed' | 'wrong_device' {
    const box = this.inbox.get(r.deploymentId);
    const owner = box?.deviceId ?? this.store.getDeployment(r.deploymentId)?.deviceId;
    if (owner !== undefined && owner !== deviceId) return 'wrong_device';
    if (!box) return 'unclaimed';
    box.queue.push(r);
    box.wake?.();
    return 'accepted';
  }

  private async nextResult(id: number, deadline: number): Promise<DeployResultMessage | undefined> {
    const box = this.inbox.get(id);
    if (!box) return undefined;
    while (box.queue.length === 0) {
      if (box.failure !== undefined) throw box.failure;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await wakeableSleep(left, (wake) => (box.wake = wake));
      box.wake = undefined;
    }
    return box.queue.shift();
  }

  private transition(d: DeploymentRecord, event: DeploymentEvent, patch: { errorCode?: string; activeVersion?: string; offset?: number } = {}): DeploymentRecord {
    const state = nextDeploymentState(d.state, event);
    this.store.updateDeployment(d.id, { state, ...patch });
    const next = { ...d, state, ...patch };
    this.emit(next);
    return next;
  }

  private emit(d: DeploymentRecord, extra: Partial<DeploymentProgress> = {}): void {
    const p: DeploymentProgress = { deploymentId: d.id, deviceId: d.deviceId, service: d.service, version: d.version, state: d.state, offset: d.offset, size: d.size, ...extra };
    if (d.errorCode !== undefined) p.errorCode = d.errorCode;
    this.hooks.progress(p);
  }

  /**
   * Drives the deployment as far as the link allows. Resolves with the record's latest state;
   * rejects only with link errors (the caller retries when the device reconnects).
   */
  async run(record: DeploymentRecord, link: DeployLink, negotiated: { maxFrame: number; window: number }): Promise<DeploymentRecord> {
    let d = record;
    if (SETTLED_DEPLOYMENT_STATES.has(d.state)) return d;
    const t = this.opts.requestTimeoutMs === undefined ? {} : { timeoutMs: this.opts.requestTimeoutMs };
    let reader: ArtifactReader | undefined;
    try {
      const offer = {
        type: 'DEPLOY_OFFER' as const,
        deploymentId: d.id,
        service: d.service,
        version: d.version,
        kind: d.kind,
        size: d.size,
        sha256: new Uint8Array(Buffer.from(d.sha256, 'hex')),
        // The largest chunk; the sender adapts below it. Sized from the codec so that a chunk at any
        // offset of this artifact fits the negotiated frame exactly.
        chunkSize: offerChunkSize({ deploymentId: d.id, size: d.size, maxFrame: negotiated.maxFrame, chunkSize: Math.min(d.chunkSize, this.opts.chunkSize) }),
        category: d.category,
        ...(d.meta ? { meta: d.meta } : {}),
      };
      const accept = await link.request(offer, t);
      if (accept.type !== 'DEPLOY_ACCEPT') return this.fail(d, 'msg.unexpected', `device answered DEPLOY_OFFER with ${accept.type}`);
      sameDeployment(d, accept.deploymentId, 'DEPLOY_ACCEPT');
      const resumedFrom = accept.nextOffset;
      // Reconciliation after a crash: the record says the bytes were all there (verifying /
      // loading) but the device's answer says it lacks some (it lost or discarded them): send again.
      if ((d.state === 'verifying' || d.state === 'loading') && accept.nextOffset < d.size) d = this.transition(d, 'resend', { offset: accept.nextOffset });
      if (d.state === 'offered' || d.state === 'transferring') {
        d = this.transition(d, 'accept', { offset: Math.min(accept.nextOffset, d.size) });
        if (resumedFrom > 0) this.emit(d, { resumedFrom });
        reader = await this.artifacts.open(d.sha256, d.size);
        const source = reader;
        await sendOverLink(link, {
          deploymentId: d.id,
          size: d.size,
          maxFrame: negotiated.maxFrame,
          window: Math.max(1, Math.min(negotiated.window, accept.window)),
          chunkSize: offer.chunkSize,
          startOffset: accept.nextOffset,
          ...t,
          read: (o, l) => source.read(o, l),
          onAck: (ack, n) => {
            this.hooks.bytesSent(d.deviceId, n);
            sameDeployment(d, ack.deploymentId, 'DEPLOY_CHUNK_ACK');
          },
          onProgress: (acked) => {
            d = { ...d, offset: acked };
            this.store.recordDeploymentOffset(d.id, acked);
            this.emit(d, resumedFrom > 0 ? { resumedFrom } : {});
          },
        });
        // The bytes the device got are the bytes on disk; check those are the recorded ones
        // before asking the device to commit (a damaged data directory fails here, not there).
        await reader.verify();
        d = this.transition(d, 'complete', { offset: d.size });
      }
      // COMMIT is idempotent on the device: after a reconnect in verifying/loading it reports where it is.
      // The inbox exists before COMMIT goes out: a DEPLOY_RESULT notification can beat the response.
      // Notifications (verifying, loading) are recorded as they arrive, not after the answer to
      // COMMIT (which a device may hold until it is ready): the record says where the device is.
      const box: ResultBox = { deviceId: d.deviceId, queue: [] };
      this.inbox.set(d.id, box);
      const wakeWith = (f: () => void): void => {
        f();
        box.wake?.();
      };
      link.request({ type: 'DEPLOY_COMMIT', deploymentId: d.id }, t).then(
        (first) =>
          wakeWith(() => {
            if (first.type !== 'DEPLOY_RESULT') box.failure = new DeployError({ code: 'msg.unexpected', reason: `device answered DEPLOY_COMMIT with ${first.type}`, hint: 'update the device firmware' });
            else if (first.deploymentId !== d.id) box.failure = wrongDeployment(d, first.deploymentId, 'DEPLOY_RESULT');
            else box.queue.push(first);
          }),
        (err: unknown) => wakeWith(() => (box.failure = err)),
      );
      const deadline = Date.now() + this.opts.resultTimeoutMs;
      for (let result = await this.nextResult(d.id, deadline); result; result = await this.nextResult(d.id, deadline)) {
        d = this.applyResult(d, result);
        if (SETTLED_DEPLOYMENT_STATES.has(d.state)) return d;
      }
      return this.fail(d, 'deploy.load_failed', `no final DEPLOY_RESULT within ${this.opts.resultTimeoutMs} ms (last state ${d.state})`);
    } catch (err) {
      // Link trouble and a busy device are transient: the deployment stays where it is and the
      // caller retries (on reconnect, or after a pause); anything else the device said settles it.
      if (err instanceof EparaError && (err.code.startsWith('link.') || RETRYABLE.has(err.code))) {
        this.emit(d, { interrupted: true });
        throw err;
      }
      if (err instanceof EparaError) return this.fail(d, err.code, err.reason);
      throw err;
    } finally {
      this.inbox.delete(d.id);
      await reader?.close();
    }
  }

  private applyResult(d: DeploymentRecord, r: DeployResultMessage): DeploymentRecord {
    const patch: { errorCode?: string; activeVersion?: string } = {};
    if (r.code !== undefined && r.code !== 0) patch.errorCode = errorInfo(r.code)?.name ?? `wire.${r.code}`;
    if (r.activeVersion !== undefined) patch.activeVersion = r.activeVersion;
    const event = resultEvent(r.state);
    // A progress report overtaken by a later one (verifying after loading) changes nothing.
    if ((r.state === 'verifying' || r.state === 'loading') && DEPLOYMENT_TRANSITIONS[d.state][event] === undefined) return d;
    return this.transition(d, event, patch);
  }

  private fail(d: DeploymentRecord, code: string, _reason: string): DeploymentRecord {
    if (SETTLED_DEPLOYMENT_STATES.has(d.state)) return d;
    return this.transition(d, 'fail', { errorCode: code });
  }
}

/**
 * A response on a device's link must speak of the deployment it answers: another deploymentId
 * (another device's, or one the device invented) is refused, never applied to either record.
 */
function sameDeployment(d: DeploymentRecord, answered: number, what: string): void {
  if (answered !== d.id) throw wrongDeployment(d, answered, what);
}

function wrongDeployment(d: DeploymentRecord, answered: number, what: string): DeployError {
  return new DeployError({
    code: 'deploy.wrong_device',
    wire: WIRE['deploy.wrong_device'],
    reason: `device ${d.deviceId} answered deployment ${d.id} with a ${what} for deployment ${answered}`,
    hint: 'a device may only answer for its own deployments: check its firmware; `epara deployments --device <id>` lists them',
    details: { deviceId: d.deviceId, deploymentId: d.id, answered },
  });
}

interface ResultBox {
  deviceId: string;
  queue: DeployResultMessage[];
  wake?: () => void;
  /** The COMMIT request failed (link down, a refusal): the wait ends with it. */
  failure?: unknown;
}
