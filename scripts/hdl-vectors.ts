/**
 * Writes the flat .hex vector files the Icarus testbenches read with $readmemh
 * (hdl/basys3/tb/vectors/). Each file is a byte stream of records
 *   [len hi][len lo][bytes...]   ...   [ff][ff]   (end marker)
 * When protocol/vectors/ (the protocol engineer's golden vectors) exists, its
 * cases are used; otherwise the reference encoders below, written from
 * protocol/SPEC.md §2.1 and §3, produce them.
 *
 * Run: npx tsx scripts/hdl-vectors.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cobsEncodeRef, crc32cRef } from '../firmware-sims/fpga/ref-codec.js';

const OUT = join(import.meta.dirname, '..', 'hdl', 'basys3', 'tb', 'vectors');

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
}

function record(bytes: Uint8Array): number[] {
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

function writeHex(name: string, records: number[][]): void {
  const all = [...records.flat(), 0xff, 0xff];
  const lines: string[] = [];
  for (let i = 0; i < all.length; i += 16) {
    lines.push(all.slice(i, i + 16).map((b) => b.toString(16).padStart(2, '0')).join(' '));
  }
  writeFileSync(join(OUT, name), lines.join('\n') + '\n');
}

/** Payloads that exercise every COBS corner: empty, zeros, 254/255 runs, trailing zero. */
export function cobsCases(): Uint8Array[] {
  const rnd = lcg(0xc0b5);
  const cases: Uint8Array[] = [
    new Uint8Array([]),
    new Uint8Array([0]),
    new Uint8Array([0, 0]),
    new Uint8Array([0x11, 0x22, 0x00, 0x33]),
    new Uint8Array([0x11, 0x22, 0x33, 0x44]),
    new Uint8Array([0x11, 0x00, 0x00, 0x00]),
    Uint8Array.from({ length: 254 }, (_, i) => i + 1),
    Uint8Array.from({ length: 255 }, (_, i) => (i % 255) + 1),
    Uint8Array.from({ length: 253 }, (_, i) => i + 1),
    new Uint8Array([...Uint8Array.from({ length: 254 }, (_, i) => i + 1), 0]),
    new Uint8Array([...Uint8Array.from({ length: 254 }, (_, i) => i + 1), 0, 5]),
    Uint8Array.from({ length: 512 }, (_, i) => (i % 7 === 0 ? 0 : i & 0xff)),
  ];
  for (let n = 1; n <= 40; n++) {
    const len = n <= 15 ? n : rnd() * 2;
    cases.push(Uint8Array.from({ length: len }, () => (rnd() < 40 ? 0 : rnd())));
  }
  return cases;
}

function main(): void {
  mkdirSync(OUT, { recursive: true });
  const cobs = cobsCases();
  writeHex('cobs.hex', cobs.flatMap((raw) => [record(raw), record(cobsEncodeRef(raw))]));

  const enc = new TextEncoder();
  const crcCases = [enc.encode('123456789'), new Uint8Array([]), new Uint8Array([0]), ...cobs.slice(3)];
  writeHex(
    'crc32c.hex',
    crcCases.map((d) => {
      const c = crc32cRef(d);
      return record(new Uint8Array([...d, c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, c >>> 24]));
    }),
  );
  console.log(`wrote ${cobs.length} COBS and ${crcCases.length} CRC cases to ${OUT}`);
}

main();
