import { describe, expect, it } from 'vitest';
import { lossyDeploy, seeded, sha } from './helpers/lossy-deploy.js';

/**
 * The production deploy path on a lossy line, end to end and in virtual time: EparaServer (the
 * one deploy sender, chunk size adapting to the loss it sees) → the firmware-sims UART emulator
 * → EparaDevice (the device SDK storing on a real disk).
 */
describe('deploy over a lossy emulated UART, server to device SDK (virtual time)', () => {
  it('moves 1 MiB intact through 1% byte loss and 0.1% bit flips; every request settled once, none executed twice', async () => {
    const data = seeded(1 << 20, 99);
    const r = await lossyDeploy(data, { baud: 2_000_000, latencyMs: 0, lossRate: 0.01, bitFlipRate: 0.001, seed: 20261123 });
    expect(r.record.state).toBe('ready');
    expect(r.stored.length).toBe(data.length);
    expect(sha(r.stored)).toBe(sha(data));
    // Exactly one settlement per request: answered, or abandoned by the sender because a later
    // cumulative ack covered the chunk or a go-back superseded it. None failed.
    expect(r.count.failed).toBe(0);
    expect(r.count.resolved + r.count.abandoned).toBe(r.count.calls);
    expect(r.count.resolved).toBeGreaterThan(0);
    // Never executed twice: every seq the device ran is distinct.
    expect(new Set(r.executedSeqs).size).toBe(r.executedSeqs.length);
    // The faults really happened and were recovered from.
    expect(r.ctl.counters.bytesLost).toBeGreaterThan(10_000);
    expect(r.ctl.counters.bitsFlipped).toBeGreaterThan(1000);
    expect(r.server.stats.retries).toBeGreaterThan(100);
    expect(r.device.stats.badFrames + r.server.stats.badFrames).toBeGreaterThan(1000);
    expect(r.device.stats.duplicates).toBeGreaterThan(0);
    console.log(
      `1 MiB, 1% loss + 0.1% flips: ${r.count.calls} chunk requests (${r.count.abandoned} abandoned), ${r.server.stats.retries} RTX, ` +
        `${r.device.stats.duplicates} duplicates answered from cache, ${r.ctl.counters.bytesLost} bytes lost, ${r.ctl.counters.bitsFlipped} bits flipped, virtual time ${(r.virtualMs / 1000).toFixed(1)} s`,
    );
  }, 120_000);
});
