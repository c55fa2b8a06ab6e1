import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/protocol/index.js';
import { FrameLink } from '../../src/transport/frame-link.js';
import { memoryPair } from '../../src/transport/memory.js';

async function until(cond: () => boolean, capMs = 2000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > capMs) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('FrameLink request signal (abandoning a request)', () => {
  it('stops retransmitting, frees the window slot, rejects with the reason, and counts a late answer', async () => {
    const [a, b] = memoryPair();
    const link = new FrameLink(a, { window: 1, retries: 5, requestTimeoutMs: 30 });
    const peer = new FrameLink(b);
    const seen: Frame[] = [];
    const held: Array<() => void> = [];
    peer.on('request', (frame, reply) => {
      seen.push(frame);
      // Hold the first request's answer until the test lets it go.
      const ack = { type: 'DEPLOY_CHUNK_ACK' as const, deploymentId: 1, nextOffset: 0 };
      if (seen.length === 1) held.push(() => void reply(ack));
      else void reply(ack);
    });
    const ctl = new AbortController();
    const chunk = { type: 'DEPLOY_CHUNK' as const, deploymentId: 1, offset: 0, data: new Uint8Array([1, 2, 3]) };
    const first = link.request(chunk, { signal: ctl.signal });
    const outcome = first.then(
      () => 'resolved',
      (e: { code: string }) => e.code,
    );
    await until(() => seen.length === 1);
    ctl.abort(Object.assign(new Error('moot'), { code: 'x' }));
    expect(await outcome).toBe('link.abandoned');
    // The window of 1 is free again: the next request goes out at once and is answered.
    expect(await link.request(chunk)).toEqual({ type: 'DEPLOY_CHUNK_ACK', deploymentId: 1, nextOffset: 0 });
    // No retransmission of the abandoned request ever went out, even after all its timeouts
    // (30 + 45 + 68 + 101 + 120 + 120 ms) would have passed.
    await new Promise((r) => setTimeout(r, 600));
    expect(link.stats.retries).toBe(0);
    expect(seen.filter((f) => f.header.flags & 2).length).toBe(0);
    held[0]!();
    await until(() => link.stats.lateResponses === 1);
    await link.close();
  });

  it('an already aborted signal fails at once with a typed reason, and nothing is sent', async () => {
    const [a, b] = memoryPair();
    const link = new FrameLink(a);
    let got = 0;
    const peer = new FrameLink(b);
    peer.on('request', (_f, reply) => {
      got++;
      void reply({ type: 'DEPLOY_CHUNK_ACK', deploymentId: 1, nextOffset: 0 });
    });
    peer.on('bad-frame', () => got++);
    const ctl = new AbortController();
    const reason = new (await import('../../src/errors.js')).DeployError({ code: 'deploy.chunk_superseded', reason: 'moot', hint: 'none' });
    ctl.abort(reason);
    await expect(link.request({ type: 'DEPLOY_CHUNK', deploymentId: 1, offset: 0, data: new Uint8Array(8) }, { signal: ctl.signal })).rejects.toBe(reason);
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toBe(0);
    expect(peer.stats.framesIn).toBe(0);
    await link.close();
  });
});
