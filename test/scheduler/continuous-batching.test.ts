import { describe, expect, it } from 'vitest';
import { RequestHandler, type InferJob } from '../../src/scheduler/request-handler.js';
import type { ServiceSpec } from '../../src/scheduler/types.js';

// An LLM service with room for 3 jobs in flight, and a vision service; t(b) = workMs · size · (1 + 0.5 (b − 1)).
const L: ServiceSpec = { name: 'llm', category: 'latency-single', kind: 'llm', memoryMiB: 1, workMs: 100, deadlineMs: 10_000, demandRps: 1, maxBatch: 3 };
const V: ServiceSpec = { name: 'v', category: 'latency-single', kind: 'vision', memoryMiB: 1, workMs: 10, deadlineMs: 10_000, demandRps: 1, maxBatch: 4 };

function handler(continuousBatching: boolean) {
  let now = 0;
  const h = new RequestHandler({ clock: () => now, serviceTimeMs: (s, b, f, size) => s.workMs * f * size * (1 + 0.5 * (b - 1)), admission: false, adaptiveBatch: false, continuousBatching });
  h.setServices([{ spec: L, stage: 0, workFraction: 1, batch: 1 }, { spec: V, stage: 0, workFraction: 1, batch: 2 }]);
  return { h, set: (t: number) => (now = t) };
}
let id = 0;
const job = (service: string, extra: Partial<InferJob> = {}): InferJob => ({ id: id++, service, stage: 0, arrivalMs: 0, deadlineMs: 10_000, sizeFactor: 1, ...extra });

describe('request handler: continuous batching of LLM services', () => {
  it('off: an LLM batch is closed until complete(batch), as for any service', () => {
    const { h } = handler(false);
    expect(h.continuous('llm')).toBe(false);
    h.submit(job('llm'));
    const b = h.next()!;
    expect(b.continuous).toBeUndefined();
    h.submit(job('llm'));
    expect(h.next()).toBeNull();
  });

  it('on: jobs join the open batch up to maxBatch, each leaves on its own and frees its place', () => {
    const { h, set } = handler(true);
    expect(h.continuous('llm')).toBe(true);
    expect(h.continuous('v')).toBe(false);
    const a = job('llm');
    h.submit(a);
    const first = h.next()!;
    expect(first.continuous).toEqual({ join: false });
    expect(first.jobs).toEqual([a]);
    expect(h.inFlight('llm')).toBe(1);
    // Three more arrive at t = 10: two join (maxBatch 3), the third waits.
    set(10);
    const [b, c, d] = [job('llm'), job('llm'), job('llm')];
    for (const j of [b, c, d]) h.submit(j);
    const second = h.next()!;
    expect(second.continuous).toEqual({ join: true });
    expect(second.jobs.map((j) => j.id)).toEqual([b.id, c.id]);
    expect(h.inFlight('llm')).toBe(3);
    expect(h.next()).toBeNull();
    expect(h.queueLength('llm')).toBe(1);
    // b leaves (its own work is done): d takes its place in the same open batch.
    h.completeJob('llm', 0, b.id);
    const third = h.next({ joinOnly: true })!;
    expect(third.jobs).toEqual([d]);
    expect(third.continuous).toEqual({ join: true });
    expect(h.running).toBe(1);
  });

  it('joinOnly never opens a new batch, of an idle LLM service or a request-level one', () => {
    const { h } = handler(true);
    h.submit(job('llm'));
    h.submit(job('v'));
    expect(h.next({ joinOnly: true })).toBeNull();
    const v = h.next()!;
    expect(v.service).toBe('llm'); // both deadlines equal: the first queued
    expect(h.next()!.service).toBe('v');
  });

  it('a new job waits only while the batch is full: backlog and predicted finish', () => {
    const { h, set } = handler(true);
    // Empty: a job starts at once, alone: finish = now + t(1) = 100.
    expect(h.backlogMs('llm')).toBe(0);
    expect(h.predictFinishMs('llm', 0, 1)).toBe(100);
    const js = [job('llm'), job('llm', { sizeFactor: 2 })];
    js.forEach((j) => h.submit(j));
    h.next();
    // Two in flight, one place free: no wait; the new job shares a batch of 3: t(3) = 200.
    set(50);
    expect(h.backlogMs('llm')).toBe(0);
    expect(h.predictFinishMs('llm', 0, 1)).toBe(250);
    h.submit(job('llm'));
    h.next();
    // Full. Members' expected ends: 0 + t(2) = 150, 0 + t(2)·2 = 300, 50 + t(3) = 250. A new job
    // waits for the earliest (150 − 50 = 100 ms) and then runs in a batch of 3.
    expect(h.backlogMs('llm')).toBe(100);
    expect(h.predictFinishMs('llm', 0, 1)).toBe(50 + 100 + 200);
  });
});
