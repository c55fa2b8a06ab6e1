import { describe, expect, it } from 'vitest';
import { EparaError, LinkError } from '../../src/errors.js';
import { buildFrame, cobsEncode, FrameDecoder, type Frame, type Message } from '../../src/protocol/index.js';
import { FrameLink } from '../../src/transport/frame-link.js';
import { attemptTimeoutMs, defaultsFor, resolveFrameLinkOptions } from '../../src/transport/frame-link-options.js';
import { memoryPair } from '../../src/transport/memory.js';
import { emulatedSerialPair } from '../../firmware-sims/links/serial-link.js';
import { VirtualClock } from '../../firmware-sims/links/virtual-clock.js';

const ping = (n: number): Message => ({ type: 'PING', data: Uint8Array.of(n) });
const hb = (n: number): Message => ({ type: 'HEARTBEAT', uptimeMs: n });

describe('FrameLink', () => {
  it('correlates answers to requests even when the peer answers out of order', async () => {
    const [a, b] = memoryPair();
    const client = new FrameLink(a);
    const server = new FrameLink(b);
    const held: Array<[number, (m: Message) => Promise<void>]> = [];
    server.on('request', (f, reply) => {
      if (f.message.type === 'HEARTBEAT') held.push([f.message.uptimeMs, reply]);
    });
    const rs = [1, 2, 3].map((n) => client.request(hb(n)));
    while (held.length < 3) await new Promise((r) => setTimeout(r, 1));
    for (const [n, reply] of held.reverse()) await reply({ type: 'HEARTBEAT_ACK', leaseMs: n * 1000 });
    expect((await Promise.all(rs)).map((m) => (m as { leaseMs: number }).leaseMs)).toEqual([1000, 2000, 3000]);
    expect(client.outstanding).toBe(0);
    await client.close();
  });

  it('answers PING itself and turns an ERROR answer into the typed error', async () => {
    const [a, b] = memoryPair();
    const client = new FrameLink(a);
    new FrameLink(b).on('request', (f, reply) => {
      if (f.message.type === 'INFER_REQUEST') return reply({ type: 'ERROR', code: 500, reason: 'no service mnist' });
    });
    expect(await client.request(ping(7))).toEqual({ type: 'PONG', data: Uint8Array.of(7) });
    const err = (await client.request({ type: 'INFER_REQUEST', requestId: 1, service: 'mnist', inputs: [{ name: 'x', dtype: 'uint8', shape: [1], data: Uint8Array.of(1) }] }).catch((e: unknown) => e)) as EparaError;
    expect(err).toBeInstanceOf(EparaError);
    expect(err.code).toBe('infer.unknown_service');
    expect(err.reason).toBe('no service mnist');
  });

  it('a request nobody handles is answered not_supported; a handler that throws is answered with its error', async () => {
    const [a, b] = memoryPair();
    const client = new FrameLink(a);
    const server = new FrameLink(b);
    await expect(client.request(hb(1))).rejects.toMatchObject({ code: 'not_supported' });
    server.on('request', () => {
      throw new LinkError({ code: 'link.busy', wire: 306, reason: 'port busy', hint: 'x' });
    });
    await expect(client.request(hb(2))).rejects.toMatchObject({ code: 'link.busy', reason: 'port busy' });
  });

  it('retransmits with RTX after a timeout and the receiver answers from its cache without running the request twice', async () => {
    const clock = new VirtualClock();
    // A wire that loses the first answer: raw access to the server side so we can drop it.
    const [a, b] = memoryPair();
    const client = new FrameLink(a, { requestTimeoutMs: 100, retries: 3, clock });
    const server = new FrameLink(b, { clock });
    let executed = 0;
    server.on('request', (f, reply) => {
      executed++;
      return reply({ type: 'HEARTBEAT_ACK', leaseMs: 5 });
    });
    // Swallow the server's first response on its way back.
    const origWrite = b.write.bind(b);
    let dropped = 0;
    (b as { write: typeof b.write }).write = async (bytes) => {
      if (dropped++ === 0) return;
      return origWrite(bytes);
    };
    const seen: Frame[] = [];
    const spy = new FrameDecoder();
    b.on('data', (c) => seen.push(...(spy.push(c).filter((x) => !(x instanceof Error)) as Frame[])));
    const rsp = await clock.run(client.request(hb(1)));
    expect(rsp).toEqual({ type: 'HEARTBEAT_ACK', leaseMs: 5 });
    expect(executed).toBe(1);
    expect(server.stats.duplicates).toBe(1);
    expect(client.stats.retries).toBe(1);
    expect(seen.map((f) => f.header.flags)).toEqual([0, 2]); // original, then RTX
    expect(seen[0]!.header.seq).toBe(seen[1]!.header.seq);
  });

  it('times out saying which timer fired, after how many attempts, with the negotiated frame size', async () => {
    const clock = new VirtualClock();
    const [a] = memoryPair(); // nobody reads the other end
    const client = new FrameLink(a, { requestTimeoutMs: 200, retries: 2, clock });
    client.setNegotiated({ maxFrame: 256, window: 2 });
    const err = (await clock.run(client.request(hb(1)).catch((e: unknown) => e))) as LinkError;
    expect(err).toBeInstanceOf(LinkError);
    expect(err.code).toBe('link.timeout');
    expect(err.wire).toBe(300);
    expect(err.details).toMatchObject({ timer: 'request', type: 'HEARTBEAT', attempts: 3, maxFrame: 256, window: 2, perAttemptMs: [200, 300, 450], timeoutMs: 950 });
    expect(err.reason).toMatch(/after 3 attempts over 950 ms/);
    expect(err.reason).toMatch(/maxFrame 256/);
    expect(client.stats.timeouts).toBe(1);
    expect(client.outstanding).toBe(0);
  });

  it('derives the per-attempt timeout from frame size and baud on a serial link', () => {
    const lan = resolveFrameLinkOptions('tcp', {});
    expect(attemptTimeoutMs(lan, 100, 16, 512)).toBe(defaultsFor('tcp').requestTimeoutMs);
    const spp = resolveFrameLinkOptions('spp', {}, 9600);
    // 9600 baud = 1.0417 ms per byte; request 100 B + 2 × window 4 × 516-byte max wire frames.
    const t = attemptTimeoutMs(spp, 100, 4, 512);
    expect(t).toBeCloseTo(1500 + (10_000 / 9600) * (100 + 8 * 516), 6);
    expect(attemptTimeoutMs(resolveFrameLinkOptions('uart', {}, 115200), 100, 4, 512)).toBeLessThan(t);
  });

  it('keeps at most `window` requests outstanding and queues the rest', async () => {
    const [a, b] = memoryPair();
    const client = new FrameLink(a, { window: 2 });
    const server = new FrameLink(b);
    const replies: Array<() => Promise<void>> = [];
    let maxSeen = 0;
    server.on('request', (f, reply) => {
      replies.push(() => reply({ type: 'HEARTBEAT_ACK', leaseMs: 1 }));
      maxSeen = Math.max(maxSeen, replies.length);
    });
    const all = Promise.all([1, 2, 3, 4, 5].map((n) => client.request(hb(n))));
    let answered = 0;
    while (answered < 5) {
      await new Promise((r) => setTimeout(r, 2));
      expect(client.outstanding).toBeLessThanOrEqual(2);
      const batch = replies.splice(0);
      expect(batch.length).toBeLessThanOrEqual(2);
      for (const r of batch) await r();
      answered += batch.length;
    }
    await all;
    expect(maxSeen).toBeLessThanOrEqual(2);
  });

  it('fails fast with link.backpressure instead of queueing without bound', async () => {
    const [a] = memoryPair();
    const client = new FrameLink(a, { window: 1, maxQueuedRequests: 2, requestTimeoutMs: 60_000 });
    const rs = [1, 2, 3, 4].map((n) => client.request(hb(n)).catch((e: unknown) => e));
    const fourth = (await rs[3]) as LinkError;
    expect(fourth.code).toBe('link.backpressure');
    await client.close();
    for (const r of rs.slice(0, 3)) expect(((await r) as LinkError).code).toBe('link.closed');
  });

  it('fails every outstanding request with link.closed when the link drops, and emits close', async () => {
    const [a, b, ctl] = emulatedSerialPair({ baud: 115200 });
    const client = new FrameLink(a);
    new FrameLink(b).on('request', () => undefined); // never answers
    const closed = new Promise<LinkError | undefined>((r) => client.once('close', r));
    const rs = [1, 2, 3].map((n) => client.request(hb(n)).catch((e: unknown) => e));
    await new Promise((r) => setTimeout(r, 20));
    ctl.disconnect();
    for (const r of rs) {
      const e = (await r) as LinkError;
      expect(e.code).toBe('link.closed');
      expect(e.details).toMatchObject({ type: 'HEARTBEAT', attempts: 1 });
    }
    expect((await closed)?.code).toBe('link.closed');
    await expect(client.request(hb(9))).rejects.toMatchObject({ code: 'link.closed' });
  });

  it('answers a request whose body is invalid with an ERROR instead of letting it be retried forever', async () => {
    const [a, b] = memoryPair();
    const server = new FrameLink(b);
    const bad: unknown[] = [];
    server.on('bad-frame', (e) => bad.push(e));
    const dec = new FrameDecoder();
    const answers: Frame[] = [];
    a.on('data', (c) => answers.push(...(dec.push(c) as Frame[])));
    // A HEARTBEAT with an empty body map: valid frame, CRC fine, schema wrong (uptimeMs missing).
    const frame = buildFrame(0x08, 0, 42, 0, Uint8Array.of(0xa0));
    await a.write(Uint8Array.from([...cobsEncode(frame), 0]));
    while (answers.length === 0) await new Promise((r) => setTimeout(r, 1));
    expect(bad).toHaveLength(1);
    expect(answers[0]!.header).toMatchObject({ flags: 1, corr: 42 });
    expect(answers[0]!.message).toMatchObject({ type: 'ERROR', code: 113 });
  });

  it('answers a request of an unknown type with ERROR msg.unknown_type, but never answers a bad response', async () => {
    const [a, b] = memoryPair();
    const server = new FrameLink(b);
    const dec = new FrameDecoder();
    const answers: Frame[] = [];
    a.on('data', (c) => answers.push(...(dec.push(c) as Frame[])));
    await a.write(Uint8Array.from([...cobsEncode(buildFrame(0x7e, 0, 9, 0, Uint8Array.of(0xa0))), 0]));
    // An unknown type with RSP set is a response: it must not be answered.
    await a.write(Uint8Array.from([...cobsEncode(buildFrame(0x7e, 1, 10, 3, Uint8Array.of(0xa0))), 0]));
    await new Promise((r) => setTimeout(r, 10));
    expect(answers).toHaveLength(1);
    expect(answers[0]!.header).toMatchObject({ flags: 1, corr: 9 });
    expect(answers[0]!.message).toMatchObject({ type: 'ERROR', code: 110 });
    expect(server.stats.badFrames).toBe(2);
  });

  it('a listener that throws becomes a process warning, not a crash; reply() after the link closed resolves', async () => {
    const [a, b] = memoryPair();
    const client = new FrameLink(a);
    const server = new FrameLink(b);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      server.on('notify', () => {
        throw new Error('app bug in a notify listener');
      });
      let late: (() => Promise<void>) | undefined;
      server.on('request', (_f, reply) => {
        late = () => reply({ type: 'HEARTBEAT_ACK', leaseMs: 1 });
      });
      await client.notify({ type: 'BYE', code: 0 });
      const pending = client.request({ type: 'HEARTBEAT', uptimeMs: 1 }).catch((e: unknown) => e);
      while (!late) await new Promise((r) => setTimeout(r, 1));
      await server.close();
      await expect(late()).resolves.toBeUndefined();
      expect(((await pending) as LinkError).code).toBe('link.closed');
      await new Promise((r) => setTimeout(r, 5));
      expect(warnings.some((w) => /'notify' listener threw: Error: app bug/.test(w))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('rejects out-of-range options with a config error naming the option', () => {
    const [a] = memoryPair();
    expect(() => new FrameLink(a, { window: 0 })).toThrow(/window=0 requests is outside 1..255/);
    expect(() => new FrameLink(a, { retries: 1.5 })).toThrow(/retries must be a whole number/);
    expect(() => new FrameLink(a).setNegotiated({ maxFrame: 10 })).toThrow(/maxFrame=10/);
  });
});
