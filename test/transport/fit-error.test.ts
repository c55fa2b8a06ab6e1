import { describe, expect, it } from 'vitest';
import { fitError } from '../../src/transport/fit-error.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import type { ErrorMessage } from '../../src/protocol/index.js';

const long: ErrorMessage = { type: 'ERROR', code: 112, reason: 'é'.repeat(100), hint: 'h'.repeat(200), field: 'caps.memoryKiB' };
const size = (m: ErrorMessage) => encodeFrame(m, { seq: 1, corr: 2, rsp: true, maxFrame: 65535 }).length;

describe('fitError: an ERROR cut down to a small maxFrame', () => {
  it('leaves an ERROR that fits alone', () => {
    expect(fitError(long, 4096)).toBe(long);
  });
  it('drops the hint first, then shortens the reason on a character boundary; the code always stays', () => {
    const a = fitError(long, 256)!;
    expect(a.hint).toBeUndefined();
    expect(a.code).toBe(112);
    expect(a.field).toBe('caps.memoryKiB');
    expect(() => encodeFrame(a, { seq: 1, corr: 2, rsp: true, maxFrame: 256 })).not.toThrow();
    const b = fitError(long, 64)!;
    expect(b.code).toBe(112);
    expect(b.reason.length).toBeLessThan(100);
    expect([...b.reason].every((ch) => ch === 'é')).toBe(true);
    expect(() => encodeFrame(b, { seq: 1, corr: 2, rsp: true, maxFrame: 64 })).not.toThrow();
    expect(size(long)).toBeGreaterThan(256);
  });
});
