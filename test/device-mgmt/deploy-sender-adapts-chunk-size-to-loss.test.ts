import { describe, expect, it } from 'vitest';
import { ChunkSizer } from '../../src/device-mgmt/deployment/chunk-sizer.js';
import { sendChunks } from '../../src/device-mgmt/deployment/sender.js';
import { deployChunkWireSize } from '../../src/protocol/index.js';
import { mulberry32 } from '../../firmware-sims/links/prng.js';

const wireBytes = (n: number) => deployChunkWireSize(n, { deploymentId: 1, offset: 1 << 20 });

describe('ChunkSizer', () => {
  it('starts at the largest chunk, shrinks when chunks are lost and grows back when they arrive', () => {
    const z = new ChunkSizer({ max: 4000, min: 16, wireBytes, window: 4 });
    expect(z.current).toBe(4000);
    // A line that loses 1% of bytes: of chunks this size almost none arrive.
    for (let i = 0; i < 20; i++) z.lost(z.current);
    const lossy = z.current;
    expect(lossy).toBeLessThan(100);
    expect(z.byteLossRate).toBeGreaterThan(0.005);
    // The line clears: every chunk arrives, the estimate decays and the size climbs back.
    const seen: number[] = [];
    for (let i = 0; i < 400; i++) {
      z.delivered(z.current);
      seen.push(z.current);
    }
    expect(z.current).toBe(4000);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('picks about the size that maximises goodput at the loss it estimates', () => {
    const z = new ChunkSizer({ max: 4000, min: 16, wireBytes, window: 2 });
    // Feed it outcomes drawn from a 0.1% byte-loss line at the size it chooses.
    const rand = mulberry32(5);
    for (let i = 0; i < 3000; i++) {
      const n = z.current;
      if (rand.next() < Math.pow(0.999, wireBytes(n))) z.delivered(n);
      else z.lost(n);
    }
    expect(z.byteLossRate).toBeGreaterThan(0.0005);
    expect(z.byteLossRate).toBeLessThan(0.002);
    let best = 16;
    for (let n = 16; n <= 4000; n++) if (z.goodput(n, 0.001) > z.goodput(best, 0.001)) best = n;
    expect(z.goodput(z.current, 0.001)).toBeGreaterThan(0.9 * z.goodput(best, 0.001));
  });

  it('a serial line starts from a prior: a few hundred bytes, not the largest chunk', () => {
    const z = new ChunkSizer({ max: 4000, min: 16, wireBytes, window: 4, priorByteLoss: 1e-3 });
    expect(z.current).toBeGreaterThan(50);
    expect(z.current).toBeLessThan(400);
  });
});

/** A device behind a line that loses each byte of a chunk frame with probability p (and no acks). */
function lossyDevice(size: number, p: number, seed: number) {
  const got = new Uint8Array(size);
  let next = 0;
  const rand = mulberry32(seed);
  const sizes: number[] = [];
  return {
    got,
    sizes,
    async sendChunk(offset: number, data: Uint8Array): Promise<number> {
      await new Promise((r) => setImmediate(r));
      sizes.push(data.length);
      const arrived = rand.next() < Math.pow(1 - p, wireBytes(data.length));
      if (arrived && offset === next) {
        got.set(data, offset);
        next += data.length;
      }
      return next;
    },
  };
}

describe('deploy sender with an adaptive chunk size', () => {
  const artifact = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31 + 7) & 0xff);
  const read = (o: number, l: number) => artifact.subarray(o, o + l);

  it('sends chunks far smaller than the offer allows when chunks are lost, and delivers the exact bytes', async () => {
    const dev = lossyDevice(artifact.length, 0.003, 11);
    const r = await sendChunks({ size: artifact.length, chunkSize: 4000, window: 4, startOffset: 0, read, sendChunk: dev.sendChunk, wireBytes });
    expect(Buffer.from(dev.got).equals(Buffer.from(artifact))).toBe(true);
    expect(r.lost).toBeGreaterThan(10);
    expect(r.finalChunkSize).toBeLessThan(600);
    const late = dev.sizes.slice(-200);
    expect(Math.max(...late)).toBeLessThan(1000);
  });

  it('keeps the largest chunk on a clean line', async () => {
    const dev = lossyDevice(artifact.length, 0, 1);
    const r = await sendChunks({ size: artifact.length, chunkSize: 4000, window: 4, startOffset: 0, read, sendChunk: dev.sendChunk, wireBytes });
    expect(Buffer.from(dev.got).equals(Buffer.from(artifact))).toBe(true);
    expect(r.goBacks).toBe(0);
    expect(dev.sizes.slice(0, -1).every((n) => n === 4000)).toBe(true);
  });

  it('with adaptive: false every chunk has the offered size (the bench sweep)', async () => {
    const dev = lossyDevice(artifact.length, 0.003, 11);
    await sendChunks({ size: artifact.length, chunkSize: 300, window: 4, startOffset: 0, read, sendChunk: dev.sendChunk, wireBytes, adaptive: false });
    expect(Buffer.from(dev.got).equals(Buffer.from(artifact))).toBe(true);
    // Go-backs restart at multiples of 300, so only the artifact's tail is shorter.
    expect(new Set(dev.sizes)).toEqual(new Set([300, artifact.length % 300]));
  });

  it('abandons a chunk whose own ack was lost once a later ack covers it, and frees nothing twice', async () => {
    // The device takes every chunk; the answer to the second chunk never comes (its ack was lost).
    let next = 0;
    const signals: AbortSignal[] = [];
    let calls = 0;
    const send = (offset: number, data: Uint8Array, ctl: { signal: AbortSignal }): Promise<number> => {
      signals.push(ctl.signal);
      const n = calls++;
      if (offset === next) next += data.length;
      const at = next;
      if (n === 1) return new Promise((_, reject) => ctl.signal.addEventListener('abort', () => reject(ctl.signal.reason)));
      return new Promise((r) => setImmediate(() => r(at)));
    };
    const r = await sendChunks({ size: 1000, chunkSize: 100, window: 4, startOffset: 0, read, sendChunk: send, wireBytes, adaptive: false });
    expect(next).toBe(1000);
    expect(r.goBacks).toBe(0);
    expect(r.chunks).toBe(10);
    expect(signals[1]!.aborted).toBe(true);
    expect((signals[1]!.reason as { code: string }).code).toBe('deploy.chunk_superseded');
    expect(signals.filter((s) => s.aborted).length).toBe(1);
  });
});
