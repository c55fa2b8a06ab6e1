import { describe, expect, it } from 'vitest';
import { FlowController } from '../../src/scheduler/frame-flow.js';
import { ConfigError } from '../../src/errors.js';

describe('frame flow controller (credits, batching, drop at the gateway, attainment)', () => {
  it('sends at most `credits` frames in flight and packs the frames that waited into one batch', () => {
    const f = new FlowController<number>({ fps: 10, budgetMs: 1000, maxBatch: 8 }, { initial: 2 });
    for (let i = 0; i < 5; i++) f.offer(i, i);
    const first = f.take(5)!;
    expect(first.map((x) => x.payload)).toEqual([0, 1]);
    expect(f.take(5)).toBeNull(); // both credits spent
    f.complete(first, 5, 15, 'ok'); // on time: +1 credit -> 3
    expect(f.credits).toBe(3);
    const second = f.take(15)!;
    expect(second.map((x) => x.payload)).toEqual([2, 3, 4]); // the three that waited, one batch
    expect(f.stats(15).meanBatch).toBe(2.5);
  });

  it('never packs more than maxBatch frames into one batch', () => {
    const f = new FlowController<number>({ budgetMs: 1000, maxBatch: 3 }, { initial: 10 });
    for (let i = 0; i < 7; i++) f.offer(i, 0);
    expect(f.take(0)!.length).toBe(3);
    expect(f.take(0)!.length).toBe(3);
    expect(f.take(0)!.length).toBe(1);
  });

  it('halves the credits when a batch comes back late or is lost, and adds one when it is on time', () => {
    const f = new FlowController<number>({ budgetMs: 100, maxBatch: 16 }, { initial: 8 });
    for (let i = 0; i < 8; i++) f.offer(i, 0);
    const b = f.take(0)!;
    f.complete(b, 0, 150, 'ok'); // answered after every deadline (100)
    expect(f.credits).toBe(4);
    expect(f.stats(150)).toMatchObject({ late: 8, onTime: 0 });
    f.offer(9, 200);
    const c = f.take(200)!;
    f.complete(c, 200, 210, 'lost');
    expect(f.credits).toBe(2);
    expect(f.stats(210).failed).toBe(1);
    f.offer(10, 300);
    const d = f.take(300)!;
    f.complete(d, 300, 310, 'ok');
    expect(f.credits).toBe(3);
  });

  it('drops at the gateway, unsent, a waiting frame whose deadline comes before the predicted answer', () => {
    const f = new FlowController<number>({ budgetMs: 50, maxBatch: 1 }, { initial: 2, max: 2 });
    f.offer(0, 0);
    const a = f.take(0)!;
    f.complete(a, 0, 40, 'ok'); // latency 40 ms learned
    f.offer(1, 90);
    const inFlight = f.take(90)!; // one frame in flight: the pipe is busy
    f.offer(2, 100); // deadline 150
    f.offer(3, 120); // deadline 170
    // At 115 the predicted answer is 155: frame 2 (deadline 150) cannot make it; frame 3 can.
    const b = f.take(115)!;
    expect(b.map((x) => x.payload)).toEqual([3]);
    const dropped = f.takeDropped();
    expect(dropped.map((d) => [d.frame.payload, d.reason])).toEqual([[2, 'predicted-late']]);
    expect(f.stats(115)).toMatchObject({ offered: 4, sent: 3, droppedAtGateway: 1 });
    expect(inFlight.map((x) => x.payload)).toEqual([1]);
  });

  it('sends a probe when nothing is in flight, so a stale latency estimate does not starve the flow', () => {
    const f = new FlowController<number>({ budgetMs: 50, maxBatch: 1 }, { initial: 1 });
    f.offer(0, 0);
    f.complete(f.take(0)!, 0, 500, 'ok'); // one very slow answer: latency 500 > budget
    f.offer(1, 600);
    expect(f.take(600)!.map((x) => x.payload)).toEqual([1]);
  });

  it('drops a frame whose deadline already passed, and the oldest when more than maxPending wait', () => {
    const f = new FlowController<number>({ budgetMs: 10, maxPending: 2 }, { initial: 1, max: 1 });
    f.offer(0, 0);
    f.offer(1, 1);
    f.offer(2, 2); // over maxPending: 0 is dropped
    expect(f.takeDropped().map((d) => [d.frame.payload, d.reason])).toEqual([[0, 'queue-full']]);
    expect(f.take(50)).toBeNull(); // both expired by 50
    expect(f.takeDropped().map((d) => d.reason)).toEqual(['expired', 'expired']);
  });

  it('accounts attainment as on-time frames over offered frames and the achieved FPS over the flow span', () => {
    const f = new FlowController<number>({ fps: 10, budgetMs: 100, maxBatch: 1 }, { initial: 4 });
    for (let i = 0; i < 10; i++) {
      const t = i * 100;
      f.offer(i, t);
      const b = f.take(t)!;
      // Every other frame answered after its deadline.
      f.complete(b, t, t + (i % 2 ? 150 : 20), 'ok');
    }
    const s = f.stats(1000);
    expect(s).toMatchObject({ offered: 10, onTime: 5, late: 5, droppedAtGateway: 0, open: 0 });
    expect(s.attainment).toBe(0.5);
    expect(s.achievedFps).toBeCloseTo(5, 6);
  });

  it('refuses out-of-range options with a typed error', () => {
    expect(() => new FlowController({ fps: 0 })).toThrow(ConfigError);
    expect(() => new FlowController({ maxBatch: 1.5 })).toThrow(/whole number/);
  });
});
