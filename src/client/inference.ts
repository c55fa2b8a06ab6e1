/**
 * Per-service inference queues: deadlines, cancellation, batching, and the counters STATE
 * reports (queue length, served, SLO violations since the last report).
 *
 * Batching needs no timer: while a run is in progress requests accumulate, and the next run takes
 * up to `batch` of them at once, so a busy service batches and an idle one answers immediately.
 * A request whose deadline passes while queued is dropped without running (it would be wasted
 * compute); one whose deadline passes while running is answered `infer.deadline` at once, its
 * handler sees the abort signal, and its late result is discarded.
 */
import { performance } from 'node:perf_hooks';
import { EparaError } from '../errors.js';
import type { Tensor } from '../protocol/index.js';
import { resolveNumbers } from '../options.js';
import { asEparaError, inferError } from './client-errors.js';
import type { InferContext, ServiceRunner } from './runner.js';

export interface InferRequestIn {
  requestId: number;
  inputs: Tensor[];
  /** Budget from receipt, microseconds. */
  deadlineUs?: number;
  flowId?: number;
}

export interface InferResult {
  outputs: Tensor[];
  queueUs: number;
  computeUs: number;
}

export interface QueueSettings {
  /** Largest number of requests served by one run. */
  batch?: number;
  /** Requests waiting (not counting the running ones) before new ones are refused with infer.overloaded. */
  maxQueue?: number;
  /** Runs in flight at once (PLACEMENT `replicas`). */
  concurrency?: number;
}

export const QUEUE_SPECS = {
  batch: { default: 1, min: 1, max: 256, integer: true },
  maxQueue: { default: 64, min: 1, max: 65535, integer: true },
  concurrency: { default: 1, min: 1, max: 16, integer: true },
};

export interface QueueCounters {
  queueLen: number;
  served: number;
  violations: number;
  batch: number;
  /** Device time spent in runs since the last take, µs (a batch run counts once). */
  busyUs: number;
}

interface Pending {
  req: InferRequestIn;
  receivedAt: number;
  deadlineAt?: number;
  timer?: NodeJS.Timeout;
  abort: AbortController;
  state: 'queued' | 'running' | 'done';
  resolve: (r: InferResult) => void;
  reject: (e: EparaError) => void;
}

export class ServiceQueue {
  private settings: Record<keyof typeof QUEUE_SPECS, number>;
  private readonly waiting: Pending[] = [];
  private readonly byId = new Map<number, Pending>();
  private running = 0;
  private served = 0;
  private violations = 0;
  private busyUs = 0;
  private closed = false;
  private pumpScheduled = false;
  private readonly inUse = new Map<ServiceRunner, number>();
  private readonly idleWaiters = new Map<ServiceRunner, Array<() => void>>();

  constructor(
    readonly service: string,
    private runner: ServiceRunner,
    settings: QueueSettings = {},
  ) {
    this.settings = resolveNumbers(QUEUE_SPECS, settings, 'settings.');
  }

  configure(settings: QueueSettings): void {
    this.settings = resolveNumbers(QUEUE_SPECS, { ...this.settings, ...settings }, 'settings.');
    this.schedulePump();
  }

  get batch(): number {
    return this.settings.batch;
  }

  /** Swap the runner (a new model version); queued requests are served by the new one. */
  setRunner(runner: ServiceRunner): void {
    this.runner = runner;
  }

  /**
   * Resolves once no run is using `runner` any more, so its session can be released safely
   * (a run in progress keeps the runner it started with).
   */
  idle(runner: ServiceRunner): Promise<void> {
    if (!this.inUse.get(runner)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.idleWaiters.get(runner) ?? [];
      list.push(resolve);
      this.idleWaiters.set(runner, list);
    });
  }

  submit(req: InferRequestIn): Promise<InferResult> {
    return new Promise<InferResult>((resolve, reject) => {
      if (this.closed) {
        reject(inferError('infer.unknown_service', { reason: `service ${this.service} is not loaded on this device`, hint: 'route the request to a device that serves it', field: 'service' }));
        return;
      }
      if (this.byId.has(req.requestId)) {
        reject(inferError('infer.bad_input', { reason: `request id ${req.requestId} is already in progress`, hint: 'use a fresh requestId per request', field: 'requestId' }));
        return;
      }
      if (this.waiting.length >= this.settings.maxQueue) {
        this.violations++;
        reject(inferError('infer.overloaded', { reason: `${this.service} has ${this.waiting.length} requests queued (max ${this.settings.maxQueue})`, hint: 'send to another replica or retry later', details: { queueLen: this.waiting.length } }));
        return;
      }
      const now = performance.now();
      const p: Pending = { req, receivedAt: now, abort: new AbortController(), state: 'queued', resolve, reject };
      if (req.deadlineUs !== undefined) {
        p.deadlineAt = now + req.deadlineUs / 1000;
        p.timer = setTimeout(() => this.expire(p), Math.max(0, req.deadlineUs / 1000));
      }
      this.waiting.push(p);
      this.byId.set(req.requestId, p);
      this.schedulePump();
    });
  }

  /** Cancel a queued or running request. Returns false when it is unknown or already finished. */
  cancel(requestId: number): boolean {
    const p = this.byId.get(requestId);
    if (!p || p.state === 'done') return false;
    this.finish(p, inferError('infer.cancelled', { reason: `request ${requestId} was cancelled`, hint: 'the caller cancelled it; nothing to do' }));
    return true;
  }

  /** Counters for STATE; served and violations restart from 0 after each call. */
  takeCounters(): QueueCounters {
    const c = this.peekCounters();
    this.served = 0;
    this.violations = 0;
    this.busyUs = 0;
    return c;
  }

  peekCounters(): QueueCounters {
    return { queueLen: this.waiting.length + this.running, served: this.served, violations: this.violations, batch: this.settings.batch, busyUs: Math.round(this.busyUs) };
  }

  /** Refuse new requests and fail every pending one with `err`. */
  close(err?: EparaError): void {
    this.closed = true;
    const e = err ?? inferError('infer.unknown_service', { reason: `service ${this.service} was unloaded`, hint: 'route the request to a device that serves it' });
    for (const p of [...this.byId.values()]) this.finish(p, e);
  }

  private expire(p: Pending): void {
    if (p.state === 'done') return;
    this.violations++;
    this.finish(p, inferError('infer.deadline', {
      reason: `request ${p.req.requestId} missed its ${Math.round((p.req.deadlineUs ?? 0) / 1000)} ms deadline while ${p.state}`,
      hint: 'give it a larger deadline, a smaller batch, or route it to a faster device',
      details: { deadlineUs: p.req.deadlineUs, state: p.state },
    }));
  }

  private finish(p: Pending, outcome: EparaError | InferResult): void {
    if (p.state === 'done') return;
    const wasQueued = p.state === 'queued';
    p.state = 'done';
    if (p.timer) clearTimeout(p.timer);
    this.byId.delete(p.req.requestId);
    if (wasQueued) {
      const i = this.waiting.indexOf(p);
      if (i >= 0) this.waiting.splice(i, 1);
    }
    if (outcome instanceof EparaError) {
      p.abort.abort(outcome);
      p.reject(outcome);
    } else {
      this.served++;
      p.resolve(outcome);
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // setImmediate, not a microtask: requests that arrive in the same I/O turn join one batch.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.settings.concurrency && this.waiting.length > 0) {
      const group = this.waiting.splice(0, this.settings.batch);
      for (const p of group) p.state = 'running';
      this.running++;
      void this.execute(group);
    }
  }

  private async execute(group: Pending[]): Promise<void> {
    const start = performance.now();
    const abort = new AbortController();
    // The group's signal fires only when every member has gone (cancelled or expired).
    const onMemberAbort = () => {
      if (group.every((p) => p.state === 'done')) abort.abort();
    };
    for (const p of group) p.abort.signal.addEventListener('abort', onMemberAbort, { once: true });
    const ctx: InferContext = { service: this.service, requestId: group[0]!.req.requestId, signal: abort.signal, batch: group.length, flowId: group[0]!.req.flowId };
    let outputs: Tensor[][] | undefined;
    let failure: EparaError | undefined;
    const runner = this.runner;
    this.inUse.set(runner, (this.inUse.get(runner) ?? 0) + 1);
    try {
      if (group.length === 1) {
        outputs = [await runner.run(group[0]!.req.inputs, { ...ctx, signal: group[0]!.abort.signal })];
      } else if (runner.runBatch) {
        outputs = await runner.runBatch(group.map((p) => p.req.inputs), ctx);
      } else {
        outputs = [];
        for (const p of group) outputs.push(await runner.run(p.req.inputs, { ...ctx, requestId: p.req.requestId, signal: p.abort.signal }));
      }
    } catch (e) {
      failure = asEparaError(e, (m) => inferError('infer.runtime', { reason: `${this.service} failed: ${m}`, hint: 'check the service handler or model on this device', cause: e }));
    }
    const left = (this.inUse.get(runner) ?? 1) - 1;
    if (left > 0) this.inUse.set(runner, left);
    else {
      this.inUse.delete(runner);
      for (const w of this.idleWaiters.get(runner) ?? []) w();
      this.idleWaiters.delete(runner);
    }
    const end = performance.now();
    this.busyUs += (end - start) * 1000;
    for (const p of group) p.abort.signal.removeEventListener('abort', onMemberAbort);
    // The run is over before anyone hears back, so counters read from a callback are exact.
    this.running--;
    group.forEach((p, i) => {
      if (p.state === 'done') return;
      if (failure) {
        if (failure.code !== 'infer.bad_input' && failure.code !== 'infer.cancelled') this.violations++;
        return this.finish(p, failure);
      }
      if (p.deadlineAt !== undefined && end > p.deadlineAt) return this.expire(p);
      this.finish(p, { outputs: outputs?.[i] ?? [], queueUs: Math.round((start - p.receivedAt) * 1000), computeUs: Math.round((end - start) * 1000) });
    });
    // Whatever queued during this run forms the next batch now; no need to wait an event-loop turn.
    this.pump();
  }
}
