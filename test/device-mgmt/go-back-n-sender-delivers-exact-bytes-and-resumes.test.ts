import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { offerChunkSize } from '../../src/device-mgmt/deployment/link-sender.js';
import { sendChunks } from '../../src/device-mgmt/deployment/sender.js';
import { encodeFrame, maxChunkData } from '../../src/protocol/index.js';

/**
 * A receiver that follows SPEC §5.11 exactly: it keeps the bytes it got in order, takes only the
 * chunk at its nextOffset and answers every chunk with its nextOffset. `lose` decides which
 * deliveries are lost on the way (the answer then reports the unchanged offset, as a device that
 * never saw the chunk would for the next one it does see).
 */
function receiver(size: number, lose: (n: number) => boolean, startAt = 0) {
  const got = new Uint8Array(size);
  let next = startAt;
  let deliveries = 0;
  return {
    got,
    get next() {
      return next;
    },
    reset(to: number) {
      next = to;
    },
    async sendChunk(offset: number, data: Uint8Array): Promise<number> {
      await new Promise((r) => setImmediate(r));
      const n = deliveries++;
      if (!lose(n) && offset === next) {
        got.set(data, offset);
        next += data.length;
      }
      return next;
    },
  };
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('go-back-N chunk sender', () => {
  const artifact = new Uint8Array(randomBytes(10_000));
  const read = (o: number, l: number) => artifact.subarray(o, o + l);

  it('delivers every byte in order on a clean link with one pass', async () => {
    const rx = receiver(artifact.length, () => false);
    const progress: number[] = [];
    const r = await sendChunks({ size: artifact.length, chunkSize: 512, window: 4, startOffset: 0, read, sendChunk: rx.sendChunk, onProgress: (a) => progress.push(a) });
    expect(Buffer.from(rx.got).equals(Buffer.from(artifact))).toBe(true);
    expect(r.goBacks).toBe(0);
    expect(r.sentBytes).toBe(artifact.length);
    expect(progress.at(-1)).toBe(artifact.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('recovers from 20% loss with go-back and still delivers the exact bytes', async () => {
    const rand = rng(7);
    const rx = receiver(artifact.length, () => rand() < 0.2);
    const r = await sendChunks({ size: artifact.length, chunkSize: 300, window: 6, startOffset: 0, read, sendChunk: rx.sendChunk, maxStalls: 50 });
    expect(Buffer.from(rx.got).equals(Buffer.from(artifact))).toBe(true);
    expect(r.goBacks).toBeGreaterThan(0);
    expect(r.sentBytes).toBeGreaterThan(artifact.length);
  });

  it('resumes from the offset the device reports and sends only the rest', async () => {
    const rx = receiver(artifact.length, () => false, 6000);
    rx.got.set(artifact.subarray(0, 6000));
    const r = await sendChunks({ size: artifact.length, chunkSize: 1000, window: 2, startOffset: 6000, read, sendChunk: rx.sendChunk });
    expect(r.sentBytes).toBe(4000);
    expect(Buffer.from(rx.got).equals(Buffer.from(artifact))).toBe(true);
  });

  it('follows a device whose offset moves backwards (it lost the tail on reboot)', async () => {
    const rx = receiver(artifact.length, () => false);
    let rebooted = false;
    const send = async (o: number, d: Uint8Array) => {
      if (!rebooted && o >= 5000) {
        rebooted = true;
        rx.reset(2000);
      }
      return rx.sendChunk(o, d);
    };
    await sendChunks({ size: artifact.length, chunkSize: 500, window: 3, startOffset: 0, read, sendChunk: send });
    expect(Buffer.from(rx.got).equals(Buffer.from(artifact))).toBe(true);
  });

  it('keeps going when every third chunk is lost: progress between go-backs resets the stall count', async () => {
    // Window 1 over a link that loses every third delivery: 34 chunks need far more than
    // maxStalls go-backs in total, but never two in a row at the same offset.
    const rx = receiver(artifact.length, (n) => n % 3 === 2);
    const r = await sendChunks({ size: artifact.length, chunkSize: 300, window: 1, startOffset: 0, read, sendChunk: rx.sendChunk, maxStalls: 3 });
    expect(r.goBacks).toBeGreaterThan(3);
    expect(Buffer.from(rx.got).equals(Buffer.from(artifact))).toBe(true);
  });

  it('gives up with deploy.offset when the device never advances', async () => {
    const rx = receiver(artifact.length, () => true);
    await expect(sendChunks({ size: artifact.length, chunkSize: 500, window: 3, startOffset: 0, read, sendChunk: rx.sendChunk, maxStalls: 4 })).rejects.toMatchObject({ code: 'deploy.offset' });
  });

  it('rejects impossible offsets from the device with deploy.offset', async () => {
    await expect(sendChunks({ size: 100, chunkSize: 10, window: 1, startOffset: 0, read, sendChunk: async () => 1_000 })).rejects.toMatchObject({ code: 'deploy.offset' });
    await expect(sendChunks({ size: 100, chunkSize: 10, window: 1, startOffset: 101, read, sendChunk: async () => 0 })).rejects.toMatchObject({ code: 'deploy.offset' });
  });

  it('propagates a link failure of any in-flight chunk without an unhandled rejection', async () => {
    let n = 0;
    const send = async () => {
      n++;
      await new Promise((r) => setImmediate(r));
      throw Object.assign(new Error('gone'), { code: 'link.closed' });
    };
    await expect(sendChunks({ size: 1000, chunkSize: 100, window: 4, startOffset: 0, read, sendChunk: send })).rejects.toMatchObject({ code: 'link.closed' });
    expect(n).toBe(4);
  });

  it('sizes the offered chunk from the codec: the largest that fits the negotiated frame at any offset', () => {
    for (const [maxFrame, size] of [[512, 10_000], [64, 100], [4096, 1 << 20], [65535, 2 ** 32 - 1]] as const) {
      const n = offerChunkSize({ deploymentId: 7, size, maxFrame });
      expect(n).toBe(Math.min(65_535, maxChunkData(maxFrame, { deploymentId: 7, maxOffset: size })));
      const chunk = (len: number) => ({ type: 'DEPLOY_CHUNK' as const, deploymentId: 7, offset: size, data: new Uint8Array(len) });
      expect(() => encodeFrame(chunk(n), { seq: 1, maxFrame })).not.toThrow();
      if (n < 65_535) expect(() => encodeFrame(chunk(n + 1), { seq: 1, maxFrame })).toThrow(/larger than maxFrame/);
    }
    // A configured chunk size below the frame's room is kept.
    expect(offerChunkSize({ deploymentId: 7, size: 1 << 20, maxFrame: 65535, chunkSize: 4096 })).toBe(4096);
  });
});
