import { EventEmitter } from 'node:events';
import type { ArtifactStore } from '../device-mgmt/deployment/artifact-store.js';
import { RETRYABLE, type Deployer, type DeploymentProgress } from '../device-mgmt/deployment/deployer.js';
import { nextDeploymentState, PENDING_UNDEPLOY_STATES, SETTLED_DEPLOYMENT_STATES, UNSETTLED_DEPLOYMENT_STATES } from '../device-mgmt/deployment/state-machine.js';
import { validateDeviceClass, validateDeviceId } from '../device-mgmt/identity.js';
import type { AuditEntry, DeploymentRecord, DeploymentState, DeviceRecord, RegistryStore } from '../device-mgmt/registry/store.js';
import type { StateViews } from '../device-mgmt/state-view.js';
import { ConfigError, DeployError, EparaError } from '../errors.js';
import { errorInfo, type PlacementOp } from '../protocol/index.js';
import type { LinkLimits } from '../device-mgmt/auth.js';
import type { ArtifactKind, DeviceClass, TaskCategory } from '../device-mgmt/registry/store.js';
import type { ArtifactSource } from './deploy-artifact.js';
import type { DeviceLink } from './device-link.js';
import { storeArtifact } from './deploy-artifact.js';
import { targetsForKind } from '../device-mgmt/deployment/target-formats.js';
import { checkOnnxArtifact } from '../device-mgmt/deployment/onnx-check.js';
import { planUndeploy } from './queued-offers.js';
import type { Workload } from './service-catalogue.js';

export interface DeployOptions {
  /** The artifact bytes, a path to stream them from, or the digest of an uploaded one (PUT /artifacts). */
  artifact: ArtifactSource;
  service: string;
  version: string;
  kind: ArtifactKind;
  category: TaskCategory;
  /** Device ids, a device class, or 'all' (every active provisioned device). */
  to: string[] | DeviceClass | 'all';
  meta?: Record<string, unknown>;
  /** Resolve once every deployment settled (default) or right after they are recorded. */
  wait?: boolean;
  /** With wait: stop waiting after this long and resolve with the current records. */
  timeoutMs?: number;
  /** The service's declaration for the scheduler (service-catalogue.ts): SLO, frame rate, demand, weight, workload kind. */
  sloMs?: number;
  fps?: number;
  demandRps?: number;
  weight?: number;
  workload?: Workload;
}

/** A welcomed device's link and the limits its handshake negotiated. */
export interface ReadyLink {
  link: DeviceLink;
  limits: LinkLimits;
}

/**
 * Deployment coordination for the server: records one deployment per target device, runs each
 * device's unsettled deployments one at a time while it is connected (the Deployer does the wire
 * work), retries transient failures, tracks the latest state per (device, service) for routing,
 * answers callers waiting for settlement, and undeploys.
 */
export interface DeploymentsHost {
  store(): RegistryStore;
  artifacts(): ArtifactStore;
  deployer(): Deployer;
  /** The device's connection when it has finished the handshake, else undefined. */
  readyConn(deviceId: string): ReadyLink | undefined;
  closing(): boolean;
  audit(e: Omit<AuditEntry, 'at'>): void;
  emitProgress(p: DeploymentProgress): void;
  emitError(err: Error): void;
  sendPlacement(deviceId: string, ops: PlacementOp[]): Promise<Array<{ service: string; code: number }>>;
  /** The devices' STATE-derived views (what each last said of its services, and when). */
  views(): StateViews;
}

/** A deploy() answer: the record, and `unchanged` when the device already had exactly this (nothing sent). */
export type DeployAnswer = DeploymentRecord & { unchanged?: true };

/** PLACEMENT_ACK codes that mean the device no longer runs the service: the unload is done. */
const UNLOADED_CODES: ReadonlySet<number> = new Set([0, errorInfo('placement.unknown_service')!.wire]);

export class DeploymentCoordinator {
  /** Latest deployment state per device and service: what routing trusts over a lagging STATE. */
  private readonly latest = new Map<string, Map<string, DeploymentState>>();
  /** Devices whose deployment loop is running. */
  private readonly deploying = new Set<string>();
  /** The record each device's loop is sending or loading now (undeploy leaves it to settle). */
  private readonly running = new Map<string, number>();
  /** deploy() calls waiting for settlement; wakeAll() answers them. */
  private readonly settleWaiters = new Set<() => void>();
  private readonly events = new EventEmitter();

  constructor(
    private readonly h: DeploymentsHost,
    private readonly o: { chunkSize: number; retryMs: number },
  ) {
    this.events.setMaxListeners(0);
  }

  /** Loads the latest state of every recorded deployment (server start). */
  load(records: DeploymentRecord[]): void {
    for (const d of records) this.note(d.deviceId, d.service, d.state);
  }

  latestState(deviceId: string, service: string): DeploymentState | undefined {
    return this.latest.get(deviceId)?.get(service);
  }

  /** Answers every waiting deploy() with the records as last read (shutdown). */
  wakeAll(): void {
    for (const wake of [...this.settleWaiters]) wake();
  }

  private resolveTargets(to: DeployOptions['to']): DeviceRecord[] {
    const all = this.h.store().listDevices().filter((d) => d.status === 'active');
    if (to === 'all') return all;
    if (typeof to === 'string') {
      const cls = validateDeviceClass(to, 'to');
      return all.filter((d) => d.deviceClass === cls);
    }
    if (!Array.isArray(to) || to.length === 0) {
      throw new ConfigError({ code: 'config.deploy_target', reason: 'deploy `to` must be device ids, a device class or "all"', hint: "e.g. to: ['jetson-01'] or to: 'embedded-gpu'", field: 'to' });
    }
    return to.map((id) => {
      const d = this.h.store().getDevice(validateDeviceId(id, 'to'));
      if (!d || d.status !== 'active') {
        throw new DeployError({ code: 'deploy.unknown_device', reason: d ? `device ${id} is ${d.status}` : `no device ${id} in the registry`, hint: 'deploy to provisioned, active devices (see `epara devices`)', field: 'to' });
      }
      return d;
    });
  }

  /**
   * Records a deployment per target device and starts the transfers on the connected ones;
   * the others get theirs when they connect. By default resolves once every deployment settled
   * (ready / failed / rolled-back) — check each record's `state` and `errorCode`.
   */
  async deploy(opts: DeployOptions): Promise<DeployAnswer[]> {
    for (const f of ['service', 'version'] as const) {
      if (typeof opts[f] !== 'string' || opts[f].length === 0 || opts[f].length > 64) {
        throw new ConfigError({ code: 'config.deploy', reason: `deploy ${f} must be 1..64 characters`, hint: `e.g. ${f}: ${f === 'service' ? "'resnet18'" : "'1.0.0'"}`, field: f });
      }
    }
    if (!['onnx', 'int8-fc-weights', 'blob'].includes(opts.kind)) {
      throw new ConfigError({ code: 'config.deploy', reason: `deploy kind ${JSON.stringify(opts.kind)} is not onnx, int8-fc-weights or blob`, hint: "use kind: 'onnx' for ONNX models", field: 'kind' });
    }
    if (!['latency-single', 'latency-multi', 'frequency-single', 'frequency-multi'].includes(opts.category)) {
      throw new ConfigError({ code: 'config.deploy', reason: `deploy category ${JSON.stringify(opts.category)} is not a task category`, hint: "e.g. category: 'latency-single'", field: 'category' });
    }
    const targets = this.resolveTargets(opts.to);
    if (targets.length === 0) {
      throw new DeployError({ code: 'deploy.unknown_device', reason: `no active device matches ${JSON.stringify(opts.to)}`, hint: 'provision devices of that class first', field: 'to' });
    }
    const pending = storeArtifact(this.h.artifacts(), opts.artifact);
    const { sha256: sha, size } = pending instanceof Promise ? await pending : pending;
    // Before any record or offer: what the devices said they run (HELLO caps.formats), and for
    // ONNX that the bytes are a model at all.
    const { run, skipped } = targetsForKind(opts.kind, targets, Array.isArray(opts.to));
    for (const d of skipped) this.h.audit({ event: 'deploy.skipped', deviceId: d.id, detail: `${opts.service}: it takes no ${opts.kind} artifacts` });
    if (opts.kind === 'onnx') checkOnnxArtifact(this.h.artifacts().pathOf(sha), `artifact ${sha.slice(0, 12)}…`);
    const answers: DeployAnswer[] = [];
    for (const t of run) {
      const same = this.sameDeployment(t.id, opts, sha);
      if (same) {
        // Deploying what the device already has (or is already receiving) is a no-op that says so.
        this.h.audit({ event: 'deploy.unchanged', deviceId: t.id, detail: `${same.service}@${same.version} is already ${same.state} as deployment ${same.id}; nothing sent` });
        answers.push(same.state === 'ready' ? { ...same, unchanged: true } : same);
        continue;
      }
      const r = this.h.store().insertDeployment({
        deviceId: t.id,
        service: opts.service,
        version: opts.version,
        kind: opts.kind,
        category: opts.category,
        size,
        sha256: sha,
        chunkSize: this.o.chunkSize,
        ...(opts.meta ? { meta: opts.meta } : {}),
      });
      this.h.audit({ event: 'deploy.offered', deviceId: r.deviceId, detail: `${r.service}@${r.version} (${r.size} bytes, sha256 ${sha.slice(0, 12)}…) deployment ${r.id}` });
      this.progress({ deploymentId: r.id, deviceId: r.deviceId, service: r.service, version: r.version, state: r.state, offset: 0, size: r.size });
      answers.push(r);
    }
    for (const id of new Set(answers.map((r) => r.deviceId))) this.kick(id);
    if (opts.wait === false) return answers;
    const settled = await this.waitSettled(answers.map((r) => r.id), opts.timeoutMs ?? 600_000);
    return settled.map((r, i) => (answers[i]?.unchanged && r.state === 'ready' ? { ...r, unchanged: true } : r));
  }

  /**
   * The device's live deployment of exactly these bytes under this service and version: ready
   * (and not contradicted by the device's own STATE, which may say it was unloaded since), or
   * still in progress. Undeployed, failed and rolled-back ones do not count: those deploy again.
   */
  private sameDeployment(deviceId: string, opts: DeployOptions, sha: string): DeploymentRecord | undefined {
    const live = this.h.store().listDeployments({ deviceId, service: opts.service, states: ['ready', ...UNSETTLED_DEPLOYMENT_STATES] });
    const same = live.filter((d) => d.sha256 === sha && d.version === opts.version && d.kind === opts.kind).pop();
    if (!same || same.state !== 'ready') return same;
    // A newer deployment of the service (another version) supersedes this one even if ready.
    if (live.some((d) => d.id > same.id)) return undefined;
    // A STATE older than the record's last change says nothing about it (it lags by up to stateMs).
    const view = this.h.views().get(deviceId);
    const reported = view?.services.find((x) => x.name === opts.service);
    return !reported || view!.updatedAt <= same.updatedAt || (reported.status === 'ready' && reported.version === opts.version) ? same : undefined;
  }

  /** Resolves with the records once all settled or the timeout passed (records in their current state). */
  waitSettled(ids: number[], timeoutMs: number): Promise<DeploymentRecord[]> {
    let last: DeploymentRecord[] = [];
    const current = (): DeploymentRecord[] => {
      // After close() the registry is gone: answer with what was last read instead of throwing in a timer.
      if (this.h.closing()) return last;
      last = ids.map((id) => this.h.store().getDeployment(id)!).filter(Boolean);
      return last;
    };
    return new Promise((resolve) => {
      const check = (): boolean => {
        const rs = current();
        if (rs.every((r) => SETTLED_DEPLOYMENT_STATES.has(r.state))) {
          done(rs);
          return true;
        }
        return false;
      };
      const onProgress = (p: DeploymentProgress): void => {
        if (ids.includes(p.deploymentId) && SETTLED_DEPLOYMENT_STATES.has(p.state)) check();
      };
      const timer = setTimeout(() => done(current()), timeoutMs);
      timer.unref();
      const done = (rs: DeploymentRecord[]): void => {
        this.settleWaiters.delete(wake);
        clearTimeout(timer);
        this.events.off('progress', onProgress);
        resolve(rs);
      };
      this.events.on('progress', onProgress);
      const wake = (): void => done(current());
      this.settleWaiters.add(wake);
      check();
    });
  }

  note(deviceId: string, service: string, state: DeploymentState): void {
    let m = this.latest.get(deviceId);
    if (!m) this.latest.set(deviceId, (m = new Map()));
    m.set(service, state);
  }

  /** Every deployment state change and transfer ack passes here (from the Deployer and from deploy/undeploy). */
  progress(p: DeploymentProgress): void {
    this.note(p.deviceId, p.service, p.state);
    if (SETTLED_DEPLOYMENT_STATES.has(p.state)) {
      this.h.audit({ event: `deploy.${p.state}`, deviceId: p.deviceId, detail: `${p.service}@${p.version} deployment ${p.deploymentId}${p.errorCode ? ` (${p.errorCode})` : ''}` });
    }
    this.events.emit('progress', p);
    this.h.emitProgress(p);
  }

  /** Runs the device's unsettled deployments one at a time while it is connected. */
  kick(deviceId: string): void {
    if (this.deploying.has(deviceId) || this.h.closing()) return;
    if (!this.h.readyConn(deviceId)) return;
    this.deploying.add(deviceId);
    void (async () => {
      try {
        for (;;) {
          const conn = this.h.readyConn(deviceId);
          if (!conn || this.h.closing()) return;
          // In id order: an unload committed before a redeploy of the same service goes out first.
          const next = this.h.store().listDeployments({ deviceId, states: [...UNSETTLED_DEPLOYMENT_STATES, ...PENDING_UNDEPLOY_STATES] })[0];
          if (!next) return;
          if (next.state === 'undeploying') {
            const r = await this.sendUnload(next);
            if (!r.ok) throw new DeployError({ code: r.code ?? 'link.closed', reason: `device ${deviceId} did not confirm the unload of ${next.service}`, hint: 'it is sent again when the device reconnects; see `epara deployments`' });
            continue;
          }
          this.running.set(deviceId, next.id);
          const after = await this.h.deployer().run(next, conn.link, { maxFrame: conn.limits.maxFrame, window: conn.limits.window }).finally(() => this.running.delete(deviceId));
          // run() settles a deployment or throws; never spin on one that did neither.
          if (!SETTLED_DEPLOYMENT_STATES.has(after.state)) return;
        }
      } catch (err) {
        // Link errors: the deployment stays unsettled and resumes when the device is back. A
        // timeout on a link that stays up (device stuck, not gone) is retried after a pause.
        const transient = err instanceof EparaError && (err.code.startsWith('link.') || RETRYABLE.has(err.code));
        if (!transient) this.h.emitError(err as Error);
        else if (err.code !== 'link.closed') setTimeout(() => this.kick(deviceId), this.o.retryMs).unref();
      } finally {
        this.deploying.delete(deviceId);
      }
    })();
  }

  /**
   * Unloads a service from devices (all that run it, or `to`) and marks its deployments undeployed.
   * The intent is committed first (`undeploying`), so a crash of either side, or a device that is
   * offline now, gets the unload when it next connects; `ok: false` says it is still pending.
   */
  async undeploy(service: string, to?: string[]): Promise<Array<{ deviceId: string; ok: boolean; code?: string; cancelled?: boolean }>> {
    const records = this.h.store().listDeployments({ service, states: ['ready', ...PENDING_UNDEPLOY_STATES, ...UNSETTLED_DEPLOYMENT_STATES] }).filter((d) => !to || to.includes(d.deviceId));
    const deviceIds = [...new Set(records.map((d) => d.deviceId))];
    if (deviceIds.length === 0) {
      throw new DeployError({ code: 'deploy.unknown', reason: `service ${service} is not deployed${to ? ` on ${to.join(', ')}` : ''}`, hint: 'list deployments with `epara deployments`', field: 'service' });
    }
    const plan = planUndeploy(records, (id) => this.running.get(id), (id) => this.h.readyConn(id) !== undefined);
    for (const d of plan.cancel) this.setState(d, 'cancel');
    for (const d of plan.unload) if (d.state !== 'undeploying') this.setState(d, 'undeploy');
    return Promise.all(
      deviceIds.map(async (deviceId) => {
        const cancelled = plan.cancel.some((d) => d.deviceId === deviceId) ? { cancelled: true } : {};
        const unload = plan.unload.find((d) => d.deviceId === deviceId);
        if (unload) return { deviceId, ...(await this.sendUnload(unload)), ...cancelled };
        if (plan.busy.some((d) => d.deviceId === deviceId)) return { deviceId, ok: false, code: 'deploy.busy', ...cancelled };
        return { deviceId, ok: true, ...cancelled };
      }),
    );
  }

  /** One PLACEMENT unload for the record's device and service; on success every undeploying record of that pair settles. */
  private async sendUnload(d: DeploymentRecord): Promise<{ ok: boolean; code?: string }> {
    const r = await this.h.sendPlacement(d.deviceId, [{ action: 'unload', service: d.service }]);
    const code = r[0]?.code;
    if (code === undefined || !UNLOADED_CODES.has(code)) return { ok: false, code: code === undefined ? 'link.closed' : errorInfo(code)?.name ?? `wire.${code}` };
    for (const x of this.h.store().listDeployments({ deviceId: d.deviceId, service: d.service, states: [...PENDING_UNDEPLOY_STATES] })) this.setState(x, 'unloaded');
    return { ok: true };
  }

  private setState(d: DeploymentRecord, event: 'undeploy' | 'unloaded' | 'cancel'): void {
    const state = nextDeploymentState(d.state, event);
    this.h.store().updateDeployment(d.id, { state });
    this.progress({ deploymentId: d.id, deviceId: d.deviceId, service: d.service, version: d.version, state, offset: d.offset, size: d.size });
  }
}
