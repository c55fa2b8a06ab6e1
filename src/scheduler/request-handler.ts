/**
 * The distributed request handler that runs at every serving point (a device, or the server on its
 * behalf): per-service earliest-deadline-first queues, admission control that rejects at once a
 * request whose predicted finish is past its deadline (InferError infer.deadline) or that finds its
 * queue full / its flow out of credits (infer.overloaded), batch selection across the services the
 * device shares (the head with the earliest deadline goes first; each service runs at most one batch
 * at a time, and services sharing a device may run concurrently), batch-size adaptation under queue
 * pressure, and AIMD credits for frequency flows. It never reads a clock itself: `clock` is
 * injected, so the simulator drives it in virtual time and the server in real time. It also does
 * not forward: `submit` throws, and the caller forwards to another device (see forwarding.ts).
 */
import { adaptBatch, maxBatchOf } from './allocator.js';
import { sensitivityOf } from './categories.js';
import { CreditController, type CreditOptions } from './credits.js';
import { EdfQueue, type InferJob } from './edf-queue.js';
import { inferError, type InferCode } from './errors.js';
import type { ServiceSpec } from './types.js';

export type { InferJob } from './edf-queue.js';

/** A service as hosted on this device: which pipeline stage and which share of the model. */
export interface HostedService {
  spec: ServiceSpec;
  stage: number;
  /** Share of the model this device holds (1 for a replica). */
  workFraction: number;
  /** Batch size the allocator chose; adaptation moves between 1 and the service's maxBatch. */
  batch: number;
}

export interface RequestHandlerOptions {
  clock: () => number;
  /** Service time of one batch on THIS device (the estimator bound to it). */
  serviceTimeMs: (spec: ServiceSpec, batch: number, workFraction: number, sizeFactor: number) => number;
  /** Reject early when the predicted finish misses the deadline (default true). */
  admission?: boolean;
  /** When a batch is picked, drop jobs that 'expired' (deadline passed) or that are 'predicted' to miss it. */
  dropLate?: 'expired' | 'predicted';
  /** Per-service queue bound (default 512). */
  maxQueue?: number;
  /** Grow the batch under queue pressure (default true); otherwise the allocator's batch is fixed. */
  adaptiveBatch?: boolean;
  /** AIMD credits for frequency services (default on); `false` disables flow control. */
  credits?: Partial<CreditOptions> | false;
  /** Queueing-delay target for credits, as a fraction of the frame budget (default 0.25). */
  creditTargetFraction?: number;
  /** Queue order: 'edf' (EPARA, default) or 'fcfs' (a conventional runtime: arrival order within and across services). */
  order?: 'edf' | 'fcfs';
  /**
   * Latency services: form a batch from jobs of similar size (default false). A batch holds its slot
   * until its longest job is done, so one long LLM prompt in a batch of short ones idles the batch
   * for most of its run (with the Azure conversation sizes the longest of 16 requests is 2.4× the
   * mean). With this on, the earliest-deadline job leads and only queued jobs at most SIZE_RATIO
   * times its size (smaller ones ride along cheaply) join it, looking at most 4 batches ahead in
   * deadline order; the others keep their place for a later batch — length bucketing.
   */
  sizeAwareBatch?: boolean;
  /**
   * LLM services (`kind: 'llm'`) run with iteration-level (continuous) batching, as vLLM and Orca
   * do (default false: request-level batches). A running batch stays open: `next()` hands out
   * further jobs of the service while fewer than its maxBatch are in flight (a join needs no new
   * device slot: `next({ joinOnly: true })`), and each job leaves on its own
   * (`completeJob`) — the runtime advances every member at the batch's per-step rate. There is no
   * head-of-line blocking to avoid, so length bucketing does not apply to these services.
   */
  continuousBatching?: boolean;
}

/** What takeDropped returns when nothing was dropped (it is called after every batch pick). */
const NONE: readonly InferJob[] = Object.freeze([]);

/** Largest size, relative to the head of a batch, a job may have to join it (sizeAwareBatch). */
export const SIZE_RATIO = 2;

export interface Batch {
  service: string;
  stage: number;
  jobs: InferJob[];
  startMs: number;
  estimatedMs: number;
  /**
   * Continuous batching: these jobs join (or open) the service's running batch and each leaves on
   * its own (`completeJob`); `complete(batch)` does not apply. Absent for a request-level batch.
   */
  continuous?: { join: boolean };
}

interface Slot {
  hosted: HostedService;
  queue: EdfQueue;
  batch: number;
  credits?: CreditController;
  /** Per-job cost at the current batch size, ms (t(b)/b at sizeFactor 1). */
  perJobMs: number;
  running: Batch | null;
  /** Continuous batching (LLM services with the option on): jobs in flight, id → estimated end, ms. */
  members: Map<number, number> | null;
}

// Slot keys are looked up several times per request; building `${service}#${stage}` each time
// made a fresh string to hash on every lookup (a fifth of the simulator's time on big fleets).
const keys = new Map<string, string[]>();
/** The key of one hosted (service, pipeline stage), interned: the same string object every time. */
export const slotKey = (service: string, stage: number): string => {
  let byStage = keys.get(service);
  if (!byStage) keys.set(service, (byStage = []));
  return (byStage[stage] ??= `${service}#${stage}`);
};

export class RequestHandler {
  private readonly slots = new Map<string, Slot>();
  private runningCount = 0;
  private dropped: InferJob[] = [];
  private readonly o: Required<Omit<RequestHandlerOptions, 'credits'>> & { credits: Partial<CreditOptions> | false };

  constructor(opts: RequestHandlerOptions) {
    this.o = {
      admission: true,
      dropLate: 'predicted',
      maxQueue: 512,
      adaptiveBatch: true,
      credits: {},
      creditTargetFraction: 0.25,
      order: 'edf',
      sizeAwareBatch: false,
      continuousBatching: false,
      ...opts,
    };
  }

  /** (Re)configure the hosted services from a placement; queues of removed services are returned for forwarding. */
  setServices(list: readonly HostedService[]): InferJob[] {
    const keep = new Set(list.map((h) => slotKey(h.spec.name, h.stage)));
    const orphans: InferJob[] = [];
    for (const [k, slot] of this.slots) {
      if (!keep.has(k)) {
        orphans.push(...slot.queue.drain());
        if (slot.running) this.runningCount--;
        this.slots.delete(k);
      }
    }
    for (const h of list) {
      const k = slotKey(h.spec.name, h.stage);
      const old = this.slots.get(k);
      const batch = Math.max(1, Math.min(maxBatchOf(h.spec), old?.batch ?? h.batch));
      const slot: Slot = {
        hosted: h,
        queue: old?.queue ?? new EdfQueue(this.o.order === 'fcfs'),
        batch,
        credits: old?.credits ?? (sensitivityOf(h.spec.category) === 'frequency' && this.o.credits !== false ? new CreditController(this.o.credits) : undefined),
        perJobMs: 0,
        running: old?.running ?? null,
        members: this.isContinuous(h.spec) ? (old?.members ?? new Map()) : null,
      };
      // A continuous batch fills to maxBatch whenever enough jobs wait: cost per job at that occupancy.
      if (slot.members) slot.batch = maxBatchOf(h.spec);
      slot.perJobMs = this.o.serviceTimeMs(h.spec, slot.batch, h.workFraction, 1) / slot.batch;
      this.slots.set(k, slot);
    }
    return orphans;
  }

  private isContinuous(spec: ServiceSpec): boolean {
    return this.o.continuousBatching && spec.kind === 'llm';
  }

  /** Whether jobs of this hosted service run in a continuous batch (each leaves via `completeJob`). */
  continuous(service: string, stage = 0): boolean {
    return this.slots.get(slotKey(service, stage))?.members != null;
  }

  hosts(service: string, stage = 0): boolean {
    return this.slots.has(slotKey(service, stage));
  }

  private slotBacklog(s: Slot, now: number): number {
    if (s.members) {
      // A new job starts as soon as a place is free: at once while the batch has room for the queue
      // ahead of it, else when the earliest member is expected to leave, plus the overflow's work.
      const free = s.batch - s.members.size;
      if (s.queue.length < free) return 0;
      let first = Infinity;
      for (const end of s.members.values()) first = Math.min(first, end);
      return (Number.isFinite(first) ? Math.max(0, first - now) : 0) + Math.max(0, s.queue.work - free) * s.perJobMs;
    }
    const r = s.running ? Math.max(0, s.running.startMs + s.running.estimatedMs - now) : 0;
    return r + s.queue.work * s.perJobMs;
  }

  /** Estimated ms of work ahead of a newly queued job of `service` (its running batch + its queue); all services when omitted. */
  backlogMs(service?: string, stage = 0): number {
    const now = this.o.clock();
    if (service !== undefined) {
      const s = this.slots.get(slotKey(service, stage));
      return s ? this.slotBacklog(s, now) : Infinity;
    }
    let ms = 0;
    for (const s of this.slots.values()) ms += this.slotBacklog(s, now);
    return ms;
  }

  /** Predicted absolute finish of a job submitted now (EDF could run it sooner; this is the pessimistic bound). */
  predictFinishMs(service: string, stage: number, sizeFactor: number): number {
    const slot = this.slots.get(slotKey(service, stage));
    return slot ? this.predictFinishIn(slot, sizeFactor) : Infinity;
  }

  private predictFinishIn(slot: Slot, sizeFactor: number): number {
    // In a continuous batch a job runs at the per-step rate of the occupancy it will share.
    const occupancy = slot.members ? Math.min(slot.batch, slot.members.size + slot.queue.length + 1) : 1;
    const own = this.o.serviceTimeMs(slot.hosted.spec, occupancy, slot.hosted.workFraction, sizeFactor);
    const now = this.o.clock();
    return now + this.slotBacklog(slot, now) + own;
  }

  queueLength(service?: string): number {
    let n = 0;
    for (const s of this.slots.values()) if (!service || s.hosted.spec.name === service) n += s.queue.length;
    return n;
  }

  credits(service: string): number | undefined {
    return this.slots.get(slotKey(service, 0))?.credits?.credits;
  }

  batchSize(service: string, stage = 0): number | undefined {
    return this.slots.get(slotKey(service, stage))?.batch;
  }

  /** Batches running now (at most one per hosted service and stage; an open continuous batch counts once). */
  get running(): number {
    let open = 0;
    for (const s of this.slots.values()) if (s.members && s.members.size > 0) open++;
    return this.runningCount + open;
  }

  /** Jobs in flight in the continuous batch of a service (0 when none or request-level). */
  inFlight(service: string, stage = 0): number {
    return this.slots.get(slotKey(service, stage))?.members?.size ?? 0;
  }

  /** Admit a job or throw InferError (infer.unknown_service, infer.overloaded, infer.deadline). */
  submit(job: InferJob): void {
    const slot = this.slots.get(slotKey(job.service, job.stage));
    const r = this.refusal(slot, job);
    if (r) throw inferError(r.code, r.reason(), r.hint, r.details());
    this.enqueue(slot!, job);
  }

  /**
   * `submit` without the exception: admits the job and returns null, or returns the code it would
   * have thrown. For hot paths that forward most refusals (the simulator: an Error with its stack
   * trace per refused camera frame was a sixth of a run).
   */
  admit(job: InferJob): InferCode | null {
    const slot = this.slots.get(slotKey(job.service, job.stage));
    const r = this.refusal(slot, job);
    if (r) return r.code;
    this.enqueue(slot!, job);
    return null;
  }

  private enqueue(slot: Slot, job: InferJob): void {
    job.enqueuedMs = this.o.clock();
    slot.queue.push(job);
  }

  /** Why a job cannot be admitted to `slot` (its service's, if hosted) now, or null; the texts are only built when an error is thrown. */
  private refusal(slot: Slot | undefined, job: InferJob): { code: InferCode; reason: () => string; hint: string; details: () => Record<string, unknown> } | null {
    if (!slot) {
      return { code: 'infer.unknown_service', reason: () => `service ${job.service} (stage ${job.stage}) is not hosted here`, hint: 'forward the request to a device that hosts it', details: () => ({ service: job.service }) };
    }
    if (slot.queue.length >= this.o.maxQueue) {
      const queueLen = slot.queue.length;
      return { code: 'infer.overloaded', reason: () => `queue for ${job.service} is full (${this.o.maxQueue})`, hint: 'forward to another replica or retry later', details: () => ({ queueLen }) };
    }
    // Credits never go below one full batch: fewer queued frames than a batch would starve the batcher.
    const credit = slot.credits ? Math.max(slot.credits.credits, slot.batch) : Infinity;
    if (job.stage === 0 && slot.queue.length >= credit) {
      return { code: 'infer.overloaded', reason: () => `flow control: ${job.service} has no credit (${credit} frames in flight)`, hint: 'the flow should slow down or another replica take the frame', details: () => ({ credits: credit }) };
    }
    // Admission applies where a refusal can still be forwarded (the first stage). A later stage's
    // refusal throws away the work done upstream, and its prediction (the running batch's longest
    // request and the whole queue ahead) is a pessimistic bound: such a job waits its turn and is
    // dropped only when it cannot make its deadline even alone (dropLate). Refusals at stage 1
    // were what capped chat-13b below 90% at light load (4 of 23 at ×0.25 in the conv trace's
    // 1,167–2,334 s window) where FCFS baselines served every request in time.
    if (this.o.admission && job.stage === 0) {
      const finish = this.predictFinishIn(slot, job.sizeFactor);
      if (finish > job.deadlineMs) {
        const now = this.o.clock();
        return {
          code: 'infer.deadline',
          reason: () => `predicted finish ${Math.round(finish - now)} ms from now is past the deadline (${Math.round(job.deadlineMs - now)} ms left)`,
          hint: 'forward to a less loaded device, relax the deadline, or add capacity',
          details: () => ({ predictedFinishMs: finish, deadlineMs: job.deadlineMs }),
        };
      }
    }
    return null;
  }

  /**
   * The next batch to run: among services not already running a batch, the queue whose head has
   * the earliest deadline, up to that service's current batch size (frames of any flow of the
   * service pack into the same batch). Returns null when nothing is ready to start. Late jobs met on the way are set aside for `takeDropped()`.
   * A continuous-batching service is ready while its batch has fewer than maxBatch jobs in flight;
   * it gets jobs up to the free places (`continuous.join` says whether its batch was already open).
   * `joinOnly`: only services whose continuous batch is open (the device has no free slot for a
   * new batch, but joining a running one needs none).
   */
  next(opts: { joinOnly?: boolean } = {}): Batch | null {
    const now = this.o.clock();
    for (;;) {
      let best: Slot | null = null;
      for (const s of this.slots.values()) {
        if (s.members ? s.members.size >= s.batch || (opts.joinOnly && s.members.size === 0) : s.running || opts.joinOnly) continue;
        const h = s.queue.peek();
        if (h && (!best || this.before(h, best.queue.peek()!))) best = s;
      }
      if (!best) return null;
      const jobs: InferJob[] = [];
      const spec = best.hosted.spec;
      if (best.members) {
        const members = best.members;
        const join = members.size > 0;
        this.takeUpTo(best, jobs, best.batch - members.size, now);
        if (jobs.length === 0) continue;
        const n = members.size + jobs.length;
        let longest = 0;
        for (const j of jobs) {
          const t = this.o.serviceTimeMs(spec, n, best.hosted.workFraction, j.sizeFactor);
          members.set(j.id, now + t);
          longest = Math.max(longest, t);
        }
        return { service: spec.name, stage: best.hosted.stage, jobs, startMs: now, estimatedMs: longest, continuous: { join } };
      }
      if (this.o.sizeAwareBatch && best.batch > 1 && sensitivityOf(spec.category) === 'latency') {
        // Length bucketing: the EDF head leads; jobs up to SIZE_RATIO × its size join, in deadline order.
        const skipped: InferJob[] = [];
        let seen = 0;
        while (jobs.length < best.batch && best.queue.length > 0 && seen < 4 * best.batch) {
          const j = best.queue.pop()!;
          if (this.isLate(best, j, now)) {
            this.dropped.push(j);
            continue;
          }
          seen++;
          if (jobs.length === 0 || j.sizeFactor <= SIZE_RATIO * jobs[0]!.sizeFactor) jobs.push(j);
          else skipped.push(j);
        }
        for (const j of skipped) best.queue.push(j);
      } else {
        this.takeUpTo(best, jobs, best.batch, now);
      }
      if (jobs.length === 0) continue;
      let size = -Infinity;
      for (const j of jobs) size = Math.max(size, j.sizeFactor);
      const estimatedMs = this.o.serviceTimeMs(spec, jobs.length, best.hosted.workFraction, size);
      best.running = { service: spec.name, stage: best.hosted.stage, jobs, startMs: now, estimatedMs };
      this.runningCount++;
      return best.running;
    }
  }

  /** A job that can no longer make its deadline: past it ('expired'), or predicted to miss it even alone. */
  private isLate(slot: Slot, j: InferJob, now: number): boolean {
    return this.o.dropLate === 'expired'
      ? j.deadlineMs < now
      : now + this.o.serviceTimeMs(slot.hosted.spec, 1, slot.hosted.workFraction, j.sizeFactor) > j.deadlineMs;
  }

  /** Jobs of `slot` in deadline order into `jobs` until it holds `limit`; late ones met on the way are dropped. */
  private takeUpTo(slot: Slot, jobs: InferJob[], limit: number, now: number): void {
    while (jobs.length < limit && slot.queue.length > 0) {
      const j = slot.queue.pop()!;
      if (this.isLate(slot, j, now)) this.dropped.push(j);
      else jobs.push(j);
    }
  }

  /** Order of two queue heads of different services: earliest deadline, or earliest arrival at this device (FCFS). */
  private before(a: InferJob, b: InferJob): boolean {
    if (this.o.order === 'fcfs') return (a.enqueuedMs ?? 0) < (b.enqueuedMs ?? 0);
    return a.deadlineMs < b.deadlineMs;
  }

  /** Jobs dropped by `next()` because they could no longer meet their deadline (each returned once). */
  takeDropped(): readonly InferJob[] {
    if (this.dropped.length === 0) return NONE;
    const d = this.dropped;
    this.dropped = [];
    return d;
  }

  /**
   * Continuous batching: one job left its service's batch (its own work is done, or it was lost);
   * its place is free for the next `next()`. Unknown ids are ignored.
   */
  completeJob(service: string, stage: number, jobId: number): void {
    this.slots.get(slotKey(service, stage))?.members?.delete(jobId);
  }

  /** The running batch finished: adapt its batch size and feed the credit controller its queueing delay. */
  complete(batch: Batch): void {
    const slot = this.slots.get(slotKey(batch.service, batch.stage));
    if (!slot || slot.running !== batch) return;
    slot.running = null;
    this.runningCount--;
    const spec = slot.hosted.spec;
    if (this.o.adaptiveBatch) {
      const nb = adaptBatch(slot.batch, slot.queue.length, maxBatchOf(spec));
      if (nb !== slot.batch) {
        slot.batch = nb;
        slot.perJobMs = this.o.serviceTimeMs(spec, nb, slot.hosted.workFraction, 1) / nb;
      }
    }
    if (slot.credits) {
      let delay = 0;
      for (const j of batch.jobs) delay = Math.max(delay, batch.startMs - (j.enqueuedMs ?? batch.startMs));
      slot.credits.onSample(delay, spec.deadlineMs * this.o.creditTargetFraction);
    }
  }
}
