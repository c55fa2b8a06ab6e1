import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkError } from '../../src/errors.js';
import type { ByteStream } from '../../src/transport/byte-stream.js';
import { openSerial } from '../../src/transport/serial.js';
import { haveSocat, ptyPair, type PtyPair } from './helpers/socat.js';

if (!haveSocat) console.warn('SKIP uart-over-kernel-ptys: socat is not installed (apt-get install socat; .ci/run installs it)');

const collect = (s: ByteStream): { chunks: Uint8Array[]; total: () => number } => {
  const chunks: Uint8Array[] = [];
  s.on('data', (c) => chunks.push(Uint8Array.from(c)));
  return { chunks, total: () => chunks.reduce((n, c) => n + c.length, 0) };
};
const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe.skipIf(!haveSocat)('UART over real kernel ptys (socat)', () => {
  let pair: PtyPair | undefined;
  const open: ByteStream[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => undefined);
    await pair?.kill();
    pair = undefined;
  });
  const openBoth = async (baudRate = 115200): Promise<[ByteStream, ByteStream]> => {
    pair = await ptyPair();
    const a = await openSerial({ path: pair.a, baudRate });
    const b = await openSerial({ path: pair.b, baudRate });
    open.push(a, b);
    return [a, b];
  };

  it('delivers each 0x00-delimited frame as one chunk, both ways', async () => {
    const [a, b] = await openBoth();
    expect(a.kind).toBe('uart');
    expect(a.description).toMatch(/^\/dev\/pts\/\d+@115200$/);
    const rb = collect(b);
    const ra = collect(a);
    await a.write(Uint8Array.from([5, 1, 2, 3, 4, 0, 3, 9, 9, 0]));
    await b.write(Uint8Array.from([2, 7, 0]));
    await until(() => rb.chunks.length >= 2 && ra.chunks.length >= 1);
    expect(rb.chunks.map((c) => [...c])).toEqual([
      [5, 1, 2, 3, 4, 0],
      [3, 9, 9, 0],
    ]);
    expect([...ra.chunks[0]!]).toEqual([2, 7, 0]);
  });

  it('carries 256 KiB intact while the writer awaits drain', async () => {
    const [a, b] = await openBoth();
    const data = randomBytes(256 * 1024);
    const rb = collect(b);
    for (let off = 0; off < data.length; off += 4096) await a.write(data.subarray(off, off + 4096));
    // The splitter holds bytes after the last 0x00 until a delimiter comes, as a frame reader must.
    await a.write(Uint8Array.from([0]));
    await until(() => rb.total() >= data.length + 1, 20_000);
    const got = Buffer.concat(rb.chunks).subarray(0, data.length);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('never buffers more than maxPieceBytes of delimiter-free noise', async () => {
    pair = await ptyPair();
    const a = await openSerial({ path: pair.a });
    const b = await openSerial({ path: pair.b, maxPieceBytes: 1024 });
    open.push(a, b);
    const rb = collect(b);
    await a.write(new Uint8Array(5000).fill(0x55));
    // No 0x00 was ever sent, yet the receiver hands the noise on instead of holding it all.
    await until(() => rb.total() >= 5000 - 1024);
    expect(rb.chunks.every((c) => !c.includes(0))).toBe(true);
  });

  it('treats an rfcomm path as Bluetooth SPP with slower defaults', async () => {
    pair = await ptyPair();
    const dir = await mkdtemp(join(tmpdir(), 'epara-rfcomm-'));
    try {
      const path = join(dir, 'rfcomm0');
      await symlink(pair.a, path);
      const s = await openSerial({ path });
      open.push(s);
      expect(s.kind).toBe('spp');
      expect(s.description).toBe(`${path}@9600`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says who holds a port that is already open', async () => {
    pair = await ptyPair();
    const first = await openSerial({ path: pair.a });
    open.push(first);
    const err = await openSerial({ path: pair.a }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkError);
    expect((err as LinkError).code).toBe('link.busy');
    expect((err as LinkError).wire).toBe(306);
    expect((err as LinkError).hint).toMatch(/this process|fuser|lsof/);
  });

  it('reports a missing port with a hint to list ports, and a non-tty as not a serial port', async () => {
    const missing = (await openSerial({ path: '/dev/ttyEPARA-missing9' }).catch((e: unknown) => e)) as LinkError;
    expect(missing).toBeInstanceOf(LinkError);
    expect(missing.code).toBe('link.open_failed');
    expect(missing.hint).toMatch(/epara ports/);
    const notTty = (await openSerial({ path: '/dev/null' }).catch((e: unknown) => e)) as LinkError;
    expect(notTty.code).toBe('link.open_failed');
  });

  it('closes with link.closed when the other side hangs up, without crashing the process', async () => {
    const [a] = await openBoth();
    const closed = new Promise<unknown>((resolve) => a.once('close', (e) => resolve(e)));
    await pair!.kill();
    const err = await closed;
    expect((err as LinkError).code).toBe('link.closed');
    expect(a.isOpen).toBe(false);
    const w = await a.write(Uint8Array.from([1, 0])).catch((e: unknown) => e);
    expect((w as LinkError).code).toBe('link.closed');
  });

  it('notices every hang-up of an idle line, also those no read error reports (10 in a row)', async () => {
    // About one socat hang-up in four gives the reader no error, end or close at all; the hang-up
    // probe (hangupCheckMs, TIOCMGET → EIO, or the pty node gone) is what closes those.
    for (let i = 0; i < 10; i++) {
      // Hung up right after the open, before the stream's first read is under way: the racy case.
      pair = await ptyPair();
      const a = await openSerial({ path: pair.a });
      open.push(a);
      const closed = new Promise<unknown>((resolve) => a.once('close', (e) => resolve(e)));
      await pair!.kill();
      const err = (await closed) as LinkError;
      expect(err.code).toBe('link.closed');
      expect(a.isOpen).toBe(false);
      for (const s of open.splice(0)) await s.close();
    }
  });

  it('with the probe off, a hang-up is still reported, at the latest by the next write', async () => {
    pair = await ptyPair();
    const a = await openSerial({ path: pair.a, hangupCheckMs: 0 });
    open.push(a);
    const closed = new Promise<unknown>((resolve) => a.once('close', (e) => resolve(e)));
    await pair.kill();
    // A write is queued and resolves at once; its EIO arrives after and ends the link.
    await a.write(Uint8Array.from([1, 0])).catch(() => undefined);
    expect(((await closed) as LinkError).code).toBe('link.closed');
    await expect(openSerial({ path: '/dev/null', hangupCheckMs: -1 })).rejects.toMatchObject({ code: 'config.range', field: 'hangupCheckMs' });
  });
});
