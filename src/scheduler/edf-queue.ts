/**
 * Earliest-deadline-first queue of jobs for one service (ties: arrival order). With `fcfs` it is a
 * plain first-come-first-served queue (the order of a conventional serving runtime, used by the
 * baselines that have no deadline-aware handling).
 */
import { KeyedHeap } from './keyed-heap.js';

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

export class EdfQueue {
  // Key: the deadline (EDF) or the arrival sequence (FCFS); ties by arrival sequence.
  private readonly heap = new KeyedHeap<InferJob>();
  constructor(readonly fcfs = false) {}
  /** Sum of sizeFactor over queued jobs (the backlog estimate scales with it). */
  work = 0;

  get length(): number {
    return this.heap.size;
  }

  push(job: InferJob): void {
    const s = seq++;
    this.heap.push(this.fcfs ? s : job.deadlineMs, s, job);
    this.work += job.sizeFactor;
  }

  peek(): InferJob | undefined {
    return this.heap.peek();
  }

  pop(): InferJob | undefined {
    const j = this.heap.pop();
    if (j) this.work = Math.max(0, this.work - j.sizeFactor);
    return j;
  }

  drain(): InferJob[] {
    const out: InferJob[] = [];
    for (let j = this.pop(); j; j = this.pop()) out.push(j);
    this.work = 0;
    return out;
  }
}
