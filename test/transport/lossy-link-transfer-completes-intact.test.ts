import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/protocol/index.js';
import { FrameLink } from '../../src/transport/frame-link.js';
import { maxChunkData, sendDeployChunks } from '../../src/transport/windowed.js';
import { ChunkSink } from '../../firmware-sims/links/chunk-sink.js';
import { mulberry32 } from '../../firmware-sims/links/prng.js';
import { emulatedSerialPair } from '../../firmware-sims/links/serial-link.js';
import { VirtualClock } from '../../firmware-sims/links/virtual-clock.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const seeded = (n: number, seed: number): Uint8Array => {
  const r = mulberry32(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r.int(256);
  return out;
};

/** Wraps link.request to count calls and settlements: each request must settle exactly once. */
function counted(link: FrameLink): { calls: number; resolved: number; rejected: number } {
  const c = { calls: 0, resolved: 0, rejected: 0 };
  const orig = link.request.bind(link);
  link.request = (msg: Message, o?: Parameters<FrameLink['request']>[1]) => {
    c.calls++;
    return orig(msg, o).then(
      (m) => {
        c.resolved++;
        return m;
      },
      (e: unknown) => {
        c.rejected++;
        throw e;
      },
    );
  };
  return c;
}

describe('bulk transfer over a lossy emulated UART (virtual time)', () => {
  it('moves 1 MiB intact through 1% byte loss and 0.1% bit flips; every request answered once, none executed twice', async () => {
    const clock = new VirtualClock();
    const [a, b, ctl] = emulatedSerialPair({ baud: 2_000_000, latencyMs: 0, lossRate: 0.01, bitFlipRate: 0.001, seed: 20261123, clock });
    // 1% byte loss kills 99.4% of 512-byte frames: small frames are the only sane choice, and a
    // lossy line needs many attempts per frame.
    const opts = { clock, maxFrame: 128, retries: 100, requestTimeoutMs: 5 };
    const sender = new FrameLink(a, { ...opts, window: 2 });
    const receiver = new FrameLink(b, opts);
    const data = seeded(1 << 20, 99);
    const sink = new ChunkSink(1, data.length);
    sink.attach(receiver);
    const count = counted(sender);
    const result = await clock.run(sendDeployChunks(sender, { deploymentId: 1, data, chunkSize: maxChunkData(128), window: 2 }));
    expect(sha(sink.data)).toBe(sha(data));
    expect(sink.nextOffset).toBe(data.length);
    // Exactly one answer per request: every request() settled once, and resolved.
    expect(count.rejected).toBe(0);
    expect(count.resolved).toBe(count.calls);
    expect(count.calls).toBe(result!.chunksSent);
    // Never executed twice: every seq the receiver ran is distinct.
    expect(new Set(sink.executedSeqs).size).toBe(sink.executedSeqs.length);
    // The faults really happened and were recovered from.
    expect(ctl.counters.bytesLost).toBeGreaterThan(10_000);
    expect(ctl.counters.bitsFlipped).toBeGreaterThan(1000);
    expect(sender.stats.retries).toBeGreaterThan(1000);
    expect(receiver.stats.badFrames + sender.stats.badFrames).toBeGreaterThan(1000);
    expect(receiver.stats.duplicates).toBeGreaterThan(0);
    console.log(
      `1 MiB over lossy link: ${result!.chunksSent} chunks sent (${result!.chunksResent} resent, ${result!.goBacks} go-backs), ` +
        `${sender.stats.retries} RTX, ${receiver.stats.duplicates} duplicates answered from cache, ` +
        `${ctl.counters.bytesLost} bytes lost, ${ctl.counters.bitsFlipped} bits flipped, virtual time ${(clock.now() / 1000).toFixed(1)} s`,
    );
  }, 120_000);
});
