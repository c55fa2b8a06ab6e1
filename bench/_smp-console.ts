/**
 * Baseline for bench/link: what common serial device-management stacks do on a UART — MCUmgr's
 * SMP-over-console framing (mynewt-mcumgr transport/smp-console.md) with a stop-and-wait image
 * upload. Each SMP packet (8-byte header + CBOR {"off","data"[,"len","sha"]}) is prefixed with
 * its 2-byte length, suffixed with CRC16-CCITT, base64-encoded and cut into lines of at most 127
 * bytes: 0x06 0x09 starts a packet, 0x04 0x14 continues it, '\n' ends each line. The device
 * answers every chunk with {"off": next} in the same framing, and the host waits for that answer
 * before sending the next chunk. Not part of the SDK; bench only.
 */
import { createHash } from 'node:crypto';
import type { ByteStream } from '../src/transport/byte-stream.js';

export function crc16ccitt(b: Uint8Array, crc = 0): number {
  for (const x of b) {
    crc ^= x << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

// --- minimal CBOR: a map of text keys to uints or byte strings ---------------------------------
function head(major: number, v: number): number[] {
  const m = major << 5;
  if (v < 24) return [m | v];
  if (v < 0x100) return [m | 24, v];
  if (v < 0x10000) return [m | 25, v >> 8, v & 0xff];
  return [m | 26, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}
function cborMap(entries: Array<[string, number | Uint8Array]>): Uint8Array {
  const out: number[] = [...head(5, entries.length)];
  for (const [k, v] of entries) {
    out.push(...head(3, k.length), ...Buffer.from(k, 'ascii'));
    if (typeof v === 'number') out.push(...head(0, v));
    else {
      out.push(...head(2, v.length));
      for (const x of v) out.push(x);
    }
  }
  return Uint8Array.from(out);
}
function cborDecodeMap(b: Uint8Array): Record<string, number | Uint8Array> {
  let i = 0;
  const readHead = (): [number, number] => {
    const ib = b[i++]!;
    const major = ib >> 5;
    const info = ib & 31;
    if (info < 24) return [major, info];
    if (info === 24) return [major, b[i++]!];
    if (info === 25) return [major, (b[i++]! << 8) | b[i++]!];
    const v = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
    i += 4;
    return [major, v];
  };
  const [, n] = readHead();
  const out: Record<string, number | Uint8Array> = {};
  for (let k = 0; k < n; k++) {
    const [, kl] = readHead();
    const key = Buffer.from(b.subarray(i, i + kl)).toString('ascii');
    i += kl;
    const [major, v] = readHead();
    if (major === 0) out[key] = v;
    else {
      out[key] = b.slice(i, i + v);
      i += v;
    }
  }
  return out;
}

// --- console framing ---------------------------------------------------------------------------
const LINE_MAX = 127;

export function encodeConsole(smpPacket: Uint8Array): Uint8Array {
  const body = new Uint8Array(2 + smpPacket.length + 2);
  const total = smpPacket.length + 2;
  body[0] = total >> 8;
  body[1] = total & 0xff;
  body.set(smpPacket, 2);
  const crc = crc16ccitt(smpPacket);
  body[body.length - 2] = crc >> 8;
  body[body.length - 1] = crc & 0xff;
  const b64 = Buffer.from(body).toString('base64');
  const per = LINE_MAX - 3; // marker (2) + '\n'
  const out: number[] = [];
  for (let off = 0; off < b64.length; off += per) {
    out.push(...(off === 0 ? [0x06, 0x09] : [0x04, 0x14]), ...Buffer.from(b64.slice(off, off + per), 'ascii'), 0x0a);
  }
  return Uint8Array.from(out);
}

/** Reassembles console lines into SMP packets; bad CRC or garbage drops the packet. */
export class ConsoleDecoder {
  private line: number[] = [];
  private b64 = '';
  private active = false;
  constructor(private readonly onPacket: (p: Uint8Array) => void) {}
  push(chunk: Uint8Array): void {
    for (const x of chunk) {
      if (x !== 0x0a) {
        if (this.line.length < LINE_MAX) this.line.push(x);
        continue;
      }
      const l = this.line;
      this.line = [];
      if (l[0] === 0x06 && l[1] === 0x09) {
        this.active = true;
        this.b64 = '';
      } else if (!(l[0] === 0x04 && l[1] === 0x14 && this.active)) continue;
      this.b64 += Buffer.from(l.slice(2)).toString('ascii');
      const body = Buffer.from(this.b64, 'base64');
      if (body.length < 2) continue;
      const total = (body[0]! << 8) | body[1]!;
      if (body.length - 2 < total) continue;
      this.active = false;
      const pkt = body.subarray(2, 2 + total - 2);
      const crc = (body[2 + total - 2]! << 8) | body[2 + total - 1]!;
      if (crc16ccitt(pkt) === crc) this.onPacket(Uint8Array.from(pkt));
    }
  }
}

function smpHeader(op: number, len: number, seq: number): number[] {
  // op, flags, len(2), group(2) = 1 image, seq, cmd = 1 upload
  return [op, 0, len >> 8, len & 0xff, 0, 1, seq & 0xff, 1];
}

/** The device side: accepts image chunks in order and answers each with {"off": next}. */
export function smpUploadReceiver(stream: ByteStream, size: number): { data: Uint8Array; next: () => number } {
  const data = new Uint8Array(size);
  let next = 0;
  const dec = new ConsoleDecoder((p) => {
    const body = cborDecodeMap(p.subarray(8));
    const off = body.off as number;
    const chunk = body.data as Uint8Array;
    if (off === next) {
      data.set(chunk, off);
      next += chunk.length;
    }
    const rsp = cborMap([
      ['rc', 0],
      ['off', next],
    ]);
    void stream.write(encodeConsole(Uint8Array.from([...smpHeader(3, rsp.length, p[6]!), ...rsp]))).catch(() => undefined);
  });
  stream.on('data', (c) => dec.push(c));
  return { data, next: () => next };
}

/** The host side: stop-and-wait upload of `image` in SMP packets of at most `mtu` bytes. */
export async function smpUpload(stream: ByteStream, image: Uint8Array, mtu = 512): Promise<{ packets: number }> {
  let seq = 0;
  let waiting: ((off: number) => void) | undefined;
  const dec = new ConsoleDecoder((p) => {
    const body = cborDecodeMap(p.subarray(8));
    waiting?.(body.off as number);
  });
  stream.on('data', (c) => dec.push(c));
  const sha = createHash('sha256').update(image).digest();
  let off = 0;
  let packets = 0;
  while (off < image.length) {
    const first = off === 0;
    // Fill the packet: header 8 + CBOR keys/values; data gets what is left of `mtu`.
    const overhead = 8 + 1 + 4 + 5 + 5 + 3 + (first ? 4 + 5 + 4 + 2 + 32 : 0);
    const n = Math.min(image.length - off, mtu - overhead);
    const entries: Array<[string, number | Uint8Array]> = [
      ['off', off],
      ['data', image.subarray(off, off + n)],
    ];
    if (first) entries.push(['len', image.length], ['sha', sha]);
    const body = cborMap(entries);
    const answered = new Promise<number>((r) => (waiting = r));
    await stream.write(encodeConsole(Uint8Array.from([...smpHeader(2, body.length, seq++), ...body])));
    packets++;
    off = await answered;
  }
  return { packets };
}
