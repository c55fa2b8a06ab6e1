import { describe, expect, it } from 'vitest';
import { lossyDeploy, seeded, sha } from './helpers/lossy-deploy.js';

/**
 * The production deploy path end to end (EparaServer → UART emulator → EparaDevice, virtual
 * time) on a line with independent bit errors: ~0.8% of bytes damaged, every one caught by the
 * frame CRC (the artifact's SHA-256 below is the proof).
 */
describe('deploy over an emulated UART with a 0.1% bit error rate, server to device SDK (virtual time)', () => {
  it('moves 1 MiB intact through a 0.1% bit error rate (every bit flipped independently)', async () => {
    const data = seeded(1 << 20, 7);
    const r = await lossyDeploy(data, { baud: 2_000_000, latencyMs: 0, bitErrorRate: 0.001, seed: 4242 });
    expect(r.record.state).toBe('ready');
    expect(sha(r.stored)).toBe(sha(data));
    expect(r.count.failed).toBe(0);
    expect(r.count.resolved + r.count.abandoned).toBe(r.count.calls);
    expect(new Set(r.executedSeqs).size).toBe(r.executedSeqs.length);
    // ~0.8% of bytes damaged: the CRC caught them all (the artifact hash above is the proof).
    expect(r.ctl.counters.bitsFlipped).toBeGreaterThan(10_000);
    expect(r.device.stats.badFrames + r.server.stats.badFrames).toBeGreaterThan(1000);
    console.log(`1 MiB, 0.1% BER: ${r.count.calls} chunk requests, ${r.server.stats.retries} RTX, ${r.ctl.counters.bitsFlipped} bits flipped, virtual time ${(r.virtualMs / 1000).toFixed(1)} s`);
  }, 120_000);
});
