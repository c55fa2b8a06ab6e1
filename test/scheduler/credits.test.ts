import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { CreditController } from '../../src/scheduler/credits.js';

describe('AIMD credit control', () => {
  it('grows additively while queueing delay stays under target and halves when it exceeds it', () => {
    const c = new CreditController({ initial: 4, increase: 1, decrease: 0.5, min: 1, max: 100 });
    c.onSample(5, 10);
    c.onSample(10, 10); // equal to target: still fine
    expect(c.credits).toBe(6);
    c.onSample(11, 10);
    expect(c.credits).toBe(3);
    c.onSample(50, 10);
    expect(c.credits).toBe(1); // 1.5 → floor
    c.onSample(50, 10);
    c.onSample(50, 10);
    expect(c.credits).toBe(1); // never below min
  });

  it('is bounded above by max', () => {
    const c = new CreditController({ initial: 7, increase: 2, max: 10 });
    for (let i = 0; i < 10; i++) c.onSample(0, 1);
    expect(c.credits).toBe(10);
  });

  it('sawtooth: repeated congestion cycles converge to the same range', () => {
    const c = new CreditController({ initial: 1, increase: 1, decrease: 0.5, max: 1000 });
    const peaks: number[] = [];
    for (let cycle = 0; cycle < 5; cycle++) {
      // delay exceeds the target once the pool passes 16 (a queue that builds beyond 16 frames)
      while (c.credits <= 16) c.onSample(c.credits, 16);
      peaks.push(c.credits);
      c.onSample(c.credits, 16);
    }
    expect(new Set(peaks)).toEqual(new Set([17]));
    expect(c.credits).toBe(8);
  });

  it('validates its options with typed config errors', () => {
    expect(() => new CreditController({ decrease: 1.5 })).toThrow(ConfigError);
    expect(() => new CreditController({ initial: 0 })).toThrow(/credits.initial/);
  });
});
