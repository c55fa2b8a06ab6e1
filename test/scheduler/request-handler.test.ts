import { describe, expect, it } from 'vitest';
import { InferError } from '../../src/errors.js';
import { RequestHandler, type InferJob } from '../../src/scheduler/request-handler.js';
import { chooseTarget } from '../../src/scheduler/forwarding.js';
import type { ServiceSpec } from '../../src/scheduler/types.js';

const A: ServiceSpec = { name: 'a', category: 'latency-single', kind: 'x', memoryMiB: 1, workMs: 10, deadlineMs: 100, demandRps: 1, maxBatch: 8 };
const B: ServiceSpec = { ...A, name: 'b' };
const F: ServiceSpec = { ...A, name: 'f', category: 'frequency-single', targetFps: 10 };

function handler(opts: Partial<ConstructorParameters<typeof RequestHandler>[0]> = {}) {
  let now = 0;
  const h = new RequestHandler({ clock: () => now, serviceTimeMs: (s, b, f, size) => s.workMs * f * size * b, ...opts });
  h.setServices([{ spec: A, stage: 0, workFraction: 1, batch: 1 }, { spec: B, stage: 0, workFraction: 1, batch: 1 }, { spec: F, stage: 0, workFraction: 1, batch: 1 }]);
  return { h, set: (t: number) => (now = t) };
}
let id = 0;
const job = (service: string, deadlineMs: number, extra: Partial<InferJob> = {}): InferJob => ({ id: id++, service, stage: 0, arrivalMs: 0, deadlineMs, sizeFactor: 1, ...extra });

describe('request handler: EDF', () => {
  it('serves the earliest deadline first, across the services sharing the device', () => {
    const { h } = handler({ admission: false });
    const j1 = job('a', 900);
    const j2 = job('b', 300);
    const j3 = job('a', 500);
    h.submit(j1);
    h.submit(j2);
    h.submit(j3);
    expect(h.next()!.jobs.map((j) => j.id)).toEqual([j2.id]); // b's head has the earliest deadline
    expect(h.next()!.jobs.map((j) => j.id)).toEqual([j3.id]); // a, EDF within a's queue
    expect(h.next()).toBeNull(); // a and b each have a batch running
    expect(h.running).toBe(2);
  });

  it('equal deadlines keep arrival order', () => {
    const { h } = handler({ admission: false });
    const js = [job('a', 500), job('a', 500), job('a', 500)];
    js.forEach((j) => h.submit(j));
    const got: number[] = [];
    for (let b = h.next(); b; b = h.next()) {
      got.push(...b.jobs.map((j) => j.id));
      h.complete(b);
    }
    expect(got).toEqual(js.map((j) => j.id));
  });

  it('drops late jobs when a batch is formed and hands them out once', () => {
    const { h, set } = handler({ admission: false, dropLate: 'predicted' });
    const late = job('a', 15); // needs 10 ms; at t=8 it cannot finish by 15
    const fine = job('a', 100);
    h.submit(late);
    h.submit(fine);
    set(8);
    const b = h.next()!;
    expect(b.jobs.map((j) => j.id)).toEqual([fine.id]);
    expect(h.takeDropped().map((j) => j.id)).toEqual([late.id]);
    expect(h.takeDropped()).toEqual([]);
  });
});

describe('request handler: admission control', () => {
  it('rejects early a request whose predicted finish is past its deadline (infer.deadline, wire 501)', () => {
    const { h } = handler();
    h.submit(job('a', 100)); // finish 10
    h.submit(job('a', 100)); // finish 20
    try {
      h.submit(job('a', 25)); // backlog 20 + own 10 = 30 > 25
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InferError);
      expect((e as InferError).code).toBe('infer.deadline');
      expect((e as InferError).wire).toBe(501);
      expect((e as InferError).details?.predictedFinishMs).toBe(30);
    }
    expect(h.queueLength('a')).toBe(2);
    h.submit(job('a', 30)); // exactly on time is admitted
    expect(h.queueLength('a')).toBe(3);
  });

  it('counts the running batch in the backlog', () => {
    const { h, set } = handler();
    h.submit(job('a', 100));
    h.next(); // runs 0..10
    set(4);
    expect(h.backlogMs('a')).toBe(6);
    expect(h.predictFinishMs('a', 0, 1)).toBe(4 + 6 + 10);
  });

  it('rejects with infer.overloaded (504) when the queue is full, infer.unknown_service (500) for a service not hosted', () => {
    const { h } = handler({ admission: false, maxQueue: 2 });
    h.submit(job('a', 1e9));
    h.submit(job('a', 1e9));
    expect(() => h.submit(job('a', 1e9))).toThrow(expect.objectContaining({ code: 'infer.overloaded', wire: 504 }));
    expect(() => h.submit(job('zzz', 1e9))).toThrow(expect.objectContaining({ code: 'infer.unknown_service', wire: 500 }));
  });

  it('batches grow under queue pressure (adaptive) and stay fixed when adaptation is off', () => {
    for (const adaptive of [true, false]) {
      const { h } = handler({ admission: false, adaptiveBatch: adaptive });
      for (let i = 0; i < 20; i++) h.submit(job('a', 1e9));
      const b1 = h.next()!;
      expect(b1.jobs.length).toBe(1);
      h.complete(b1); // 19 queued ≥ 2 × 1
      expect(h.batchSize('a')).toBe(adaptive ? 2 : 1);
      const b2 = h.next()!;
      expect(b2.jobs.length).toBe(adaptive ? 2 : 1);
    }
  });

  it('frequency flows are limited by AIMD credits (infer.overloaded when out of credit)', () => {
    const { h } = handler({ admission: false, credits: { initial: 2, min: 1, max: 8, increase: 1, decrease: 0.5 } });
    expect(h.credits('f')).toBe(2);
    h.submit(job('f', 1e9));
    h.submit(job('f', 1e9));
    expect(() => h.submit(job('f', 1e9))).toThrow(expect.objectContaining({ code: 'infer.overloaded' }));
  });

  it('admit() refuses with the code submit() would throw, without throwing, and admits what submit would', () => {
    // Two handlers fed the same jobs: one through submit (catching), one through admit.
    const mk = () => handler({ maxQueue: 3, credits: { initial: 2, min: 1, max: 8, increase: 1, decrease: 0.5 } });
    const viaSubmit = mk();
    const viaAdmit = mk();
    const jobs = [job('a', 1e9), job('a', 5), job('f', 1e9), job('f', 1e9), job('f', 1e9), job('zzz', 1e9), job('a', 1e9), job('a', 1e9), job('a', 1e9)];
    const thrown = jobs.map((j) => {
      try {
        viaSubmit.h.submit({ ...j });
        return null;
      } catch (e) {
        expect(e).toBeInstanceOf(InferError);
        return (e as InferError).code;
      }
    });
    const admitted = jobs.map((j) => viaAdmit.h.admit({ ...j }));
    expect(admitted).toEqual(thrown);
    expect(admitted).toEqual([null, 'infer.deadline', null, null, 'infer.overloaded', 'infer.unknown_service', null, null, 'infer.overloaded']);
    expect(viaAdmit.h.queueLength()).toBe(viaSubmit.h.queueLength());
  });

  it('reconfiguring hands back the queue of a service that is no longer hosted (for forwarding)', () => {
    const { h } = handler({ admission: false });
    const j = job('b', 1e9);
    h.submit(j);
    const orphans = h.setServices([{ spec: A, stage: 0, workFraction: 1, batch: 1 }]);
    expect(orphans.map((o) => o.id)).toEqual([j.id]);
    expect(h.hosts('b')).toBe(false);
  });
});

describe('forwarding decision', () => {
  it('picks the earliest predicted finish; on a near tie the fewer reported violations', () => {
    const d = chooseTarget([
      { device: 'x', predictedFinishMs: 50 },
      { device: 'y', predictedFinishMs: 30, violationRate: 0.5 },
      { device: 'z', predictedFinishMs: 30.5, violationRate: 0.1 },
    ], 40)!;
    expect(d.device).toBe('z');
    expect(d.meetsDeadline).toBe(true);
    expect(chooseTarget([{ device: 'x', predictedFinishMs: 50 }], 40)!.meetsDeadline).toBe(false);
    expect(chooseTarget([{ device: 'x', predictedFinishMs: Infinity }], 40)).toBeNull();
    expect(chooseTarget([], 40)).toBeNull();
  });
});

describe('request handler: FCFS (the baselines\' conventional runtime)', () => {
  it('serves in arrival order within and across services, whatever the deadlines', () => {
    const { h, set } = handler({ admission: false, order: 'fcfs' });
    set(0);
    const j1 = job('a', 900);
    h.submit(j1);
    set(1);
    const j2 = job('a', 300);
    h.submit(j2);
    set(2);
    const j3 = job('b', 100);
    h.submit(j3);
    const first = h.next()!;
    expect(first.jobs.map((j) => j.id)).toEqual([j1.id]); // earliest arrival, though its deadline is the latest
    expect(h.next()!.jobs.map((j) => j.id)).toEqual([j3.id]); // a is busy; b's head is next
    set(50);
    h.complete(first);
    expect(h.next()!.jobs.map((j) => j.id)).toEqual([j2.id]);
  });
});

describe('request handler: size-aware batching (length bucketing)', () => {
  const L: ServiceSpec = { ...A, name: 'l', maxBatch: 4, deadlineMs: 100_000 };
  const make = (sizeAwareBatch: boolean) => {
    const now = 0;
    const h = new RequestHandler({ clock: () => now, serviceTimeMs: (s, b, f, size) => s.workMs * f * size * b, admission: false, adaptiveBatch: false, sizeAwareBatch });
    h.setServices([{ spec: L, stage: 0, workFraction: 1, batch: 4 }]);
    return h;
  };

  it('the earliest-deadline job leads; jobs more than SIZE_RATIO times its size wait for a later batch, smaller ones join', () => {
    const h = make(true);
    const head = job('l', 1000, { sizeFactor: 1 });
    const long = job('l', 2000, { sizeFactor: 5 });
    const small = job('l', 3000, { sizeFactor: 0.3 });
    const alike = job('l', 4000, { sizeFactor: 1.8 });
    [head, long, small, alike].forEach((j) => h.submit(j));
    const b = h.next()!;
    expect(b.jobs.map((j) => j.id)).toEqual([head.id, small.id, alike.id]);
    expect(h.queueLength('l')).toBe(1); // the long job kept its place
    h.complete(b);
    expect(h.next()!.jobs.map((j) => j.id)).toEqual([long.id]);
  });

  it('off (the baselines) a batch takes the next jobs whatever their size; frames are never bucketed', () => {
    const h = make(false);
    const js = [job('l', 1000, { sizeFactor: 1 }), job('l', 2000, { sizeFactor: 5 }), job('l', 3000, { sizeFactor: 0.3 })];
    js.forEach((j) => h.submit(j));
    expect(h.next()!.jobs.map((j) => j.id)).toEqual(js.map((j) => j.id));
    const f = new RequestHandler({ clock: () => 0, serviceTimeMs: (s, b, fr, size) => s.workMs * fr * size * b, admission: false, credits: false, sizeAwareBatch: true });
    const FF: ServiceSpec = { ...F, maxBatch: 4, deadlineMs: 100_000 };
    f.setServices([{ spec: FF, stage: 0, workFraction: 1, batch: 4 }]);
    const frames = [job('f', 1000, { sizeFactor: 1 }), job('f', 2000, { sizeFactor: 5 })];
    frames.forEach((j) => f.submit(j));
    expect(f.next()!.jobs).toHaveLength(2);
  });
});
