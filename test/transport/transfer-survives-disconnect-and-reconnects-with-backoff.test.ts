import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LinkError } from '../../src/errors.js';
import type { ByteStream } from '../../src/transport/byte-stream.js';
import { FrameLink } from '../../src/transport/frame-link.js';
import { ReconnectingConnector, backoffDelay, reconnect } from '../../src/transport/reconnect.js';
import { sendArtifact } from './helpers/send-artifact.js';
import { ChunkSink } from '../../firmware-sims/links/chunk-sink.js';
import { mulberry32 } from '../../firmware-sims/links/prng.js';
import { emulatedSerialPair } from '../../firmware-sims/links/serial-link.js';
import { VirtualClock } from '../../firmware-sims/links/virtual-clock.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => void unhandled.push(e);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
});

describe('backoff', () => {
  it('doubles from initialMs, caps at maxMs, and jitter only shortens', () => {
    const o = { initialMs: 100, maxMs: 1000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, o))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const j = { initialMs: 100, maxMs: 1000, jitter: 0.5 };
    expect(backoffDelay(3, j, () => 0)).toBe(400);
    expect(backoffDelay(3, j, () => 0.999999)).toBeCloseTo(200, 3);
  });

  it('reconnect() retries with backoff and gives up after maxAttempts with the last error as cause', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const failing = async (): Promise<ByteStream> => {
      calls++;
      throw new LinkError({ code: 'link.open_failed', wire: 304, reason: 'no device', hint: 'plug it in' });
    };
    const delays: number[] = [];
    const err = (await clock.run(reconnect(failing, { initialMs: 10, maxMs: 40, jitter: 0, maxAttempts: 5, clock }, (i) => delays.push(i.delayMs)).catch((e: unknown) => e))) as LinkError;
    expect(calls).toBe(5);
    expect(delays).toEqual([10, 20, 40, 40]);
    expect(err.code).toBe('link.open_failed');
    expect(err.reason).toMatch(/gave up reconnecting after 5 attempts: no device/);
    expect(err.hint).toBe('plug it in');
    expect(clock.now()).toBe(110);
  });
});

describe('a transfer across a dropped link', () => {
  it('reconnects with backoff and finishes from the acknowledged offset; no request is lost silently and nothing escapes the process', async () => {
    const clock = new VirtualClock();
    const data = new Uint8Array(256 * 1024);
    const r = mulberry32(5);
    for (let i = 0; i < data.length; i++) data[i] = r.int(256);
    const sink = new ChunkSink(9, data.length); // device state survives the drop, like persisted storage
    let connects = 0;
    let deviceAbsentFor = 0;
    const linkOpts = { clock, maxFrame: 512, retries: 5, requestTimeoutMs: 50 };
    const connector = async (): Promise<ByteStream> => {
      if (deviceAbsentFor > 0) {
        deviceAbsentFor--;
        throw new LinkError({ code: 'link.open_failed', wire: 304, reason: 'device rebooting', hint: 'wait' });
      }
      connects++;
      // The first link drops after ~100 KB have crossed it.
      const [a, b] = emulatedSerialPair({ baud: 921_600, latencyMs: 2, clock, seed: connects, disconnectAfterBytes: connects === 1 ? 100_000 : 0 });
      sink.attach(new FrameLink(b, linkOpts));
      return a;
    };
    const rc = new ReconnectingConnector(connector, { initialMs: 100, maxMs: 1000, jitter: 0.3, clock, random: mulberry32(1).next });
    const events: string[] = [];
    rc.on('connected', (_s, i) => events.push(`connected reconnect=${i.reconnect} after ${i.attempt} failures`));
    rc.on('disconnected', (e) => {
      events.push(`disconnected ${e?.code}`);
      deviceAbsentFor = 2; // the device takes two attempts to come back
    });
    rc.on('retrying', (i) => events.push(`retrying #${i.attempt} in ${Math.round(i.delayMs)} ms`));

    let acked = 0;
    const failures: LinkError[] = [];
    const run = async (): Promise<void> => {
      await rc.start();
      for (;;) {
        const stream = await rc.nextStream();
        const link = new FrameLink(stream, linkOpts);
        try {
          await sendArtifact(link, { deploymentId: 9, data, window: 4, startOffset: acked, onProgress: (n) => (acked = n) });
          await link.close(); // a deliberate close: the connector stops instead of reconnecting
          return;
        } catch (e) {
          failures.push(e as LinkError);
        }
      }
    };
    await clock.run(run());
    await rc.stop();

    expect(sha(sink.data)).toBe(sha(data));
    expect(failures).toHaveLength(1);
    expect(failures[0]!.code).toBe('link.closed'); // the in-flight chunks failed typed, not silently
    expect(failures[0]!.details).toMatchObject({ type: 'DEPLOY_CHUNK' });
    expect(events).toEqual([
      'connected reconnect=false after 0 failures',
      'disconnected link.closed',
      expect.stringMatching(/^retrying #1 in (7\d|8\d|9\d|100) ms$/),
      expect.stringMatching(/^retrying #2 in (1[4-9]\d|200) ms$/),
      'connected reconnect=true after 2 failures',
      'disconnected undefined',
    ]);
    expect(rc.status).toBe('stopped');
    expect(new Set(sink.executedSeqs.slice(0, 10)).size).toBe(10);
    expect(unhandled).toEqual([]);
  });
});
