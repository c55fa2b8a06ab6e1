/**
 * Earliest-deadline-first queue of jobs for one service (ties: arrival order). With `fcfs` it is a
 * plain first-come-first-served queue (the order of a conventional serving runtime, used by the
 * baselines that have no deadline-aware handling).
 */
import { Heap } from './heap.js';

export interface InferJob {
  id: number;
  service: string;
  /** Pipeline stage this job waits for on this device (0 for a replica). */
  stage: number;
  /** Absolute times on the handler's clock, ms. */
  arrivalMs: number;
  deadlineMs: number;
  /** This request's work relative to the service mean (an LLM prompt twice the mean is 2). */
  sizeFactor: number;
  /** Frequency flows: the flow the frame belongs to. */
  flowId?: number;
  /** Times the job has been forwarded already. */
  forwards?: number;
  /** When the job entered this device's queue (set by the handler). */
  enqueuedMs?: number;
}

let seq = 0;
interface Entry {
  job: InferJob;
  seq: number;
}

export class EdfQueue {
  private readonly heap: Heap<Entry>;
  constructor(readonly fcfs = false) {
    this.heap = fcfs ? new Heap<Entry>((a, b) => a.seq < b.seq) : new Heap<Entry>((a, b) => a.job.deadlineMs < b.job.deadlineMs || (a.job.deadlineMs === b.job.deadlineMs && a.seq < b.seq));
  }
  /** Sum of sizeFactor over queued jobs (the backlog estimate scales with it). */
  work = 0;

  get length(): number {
    return this.heap.size;
  }

  push(job: InferJob): void {
    this.heap.push({ job, seq: seq++ });
    this.work += job.sizeFactor;
  }

  peek(): InferJob | undefined {
    return this.heap.peek()?.job;
  }

  pop(): InferJob | undefined {
    const e = this.heap.pop();
    if (e) this.work = Math.max(0, this.work - e.job.sizeFactor);
    return e?.job;
  }

  drain(): InferJob[] {
    const out: InferJob[] = [];
    for (let j = this.pop(); j; j = this.pop()) out.push(j);
    this.work = 0;
    return out;
  }
}
