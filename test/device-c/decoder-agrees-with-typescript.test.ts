/**
 * Differential test: the C library's receive checks (frame, CBOR subset, schema) and the
 * TypeScript codec give the same verdict on the same frames. The frames are every valid vector
 * and thousands of mutations of their bodies (byte flips, interesting head bytes, insertions,
 * deletions, truncations), each re-framed with a correct len and CRC so that the message layer
 * decides. The error code must match exactly, and for msg.schema the field named too; this is
 * what a firmware author relies on when the conformance kit compares codes.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFrame, parseFrame } from '../../src/protocol/frame.js';
import { errorInfo } from '../../src/protocol/error-codes.js';
import { EparaError } from '../../src/errors.js';
import { mulberry32 } from '../../firmware-sims/links/prng.js';
import { DEVICE_C_DIR, VECTORS_DIR, makeDeviceC, missingCompiler } from './device-c-build.js';

const noCompiler = missingCompiler();
const INTERESTING = [0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x20, 0x38, 0x40, 0x41, 0x58, 0x5f, 0x60, 0x61, 0x7f, 0x80, 0x81, 0x9f, 0xa0, 0xa1, 0xbf, 0xc1, 0xc6, 0xd8, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xff];

interface Verdict {
  code: number;
  field: string;
}

function tsVerdict(frame: Uint8Array): Verdict {
  try {
    parseFrame(frame, 65535);
    return { code: 0, field: '-' };
  } catch (e) {
    if (!(e instanceof EparaError)) throw e;
    return { code: e.wire ?? errorInfo(e.code)?.wire ?? -1, field: e.field || '-' };
  }
}

function mutate(body: Uint8Array, rnd: ReturnType<typeof mulberry32>): Uint8Array {
  const b = Array.from(body);
  const edits = 1 + rnd.int(3);
  for (let k = 0; k < edits; k++) {
    const at = b.length ? rnd.int(b.length) : 0;
    switch (rnd.int(6)) {
      case 0: if (b.length) b[at] = b[at]! ^ (1 << rnd.int(8)); break;
      case 1: if (b.length) b[at] = INTERESTING[rnd.int(INTERESTING.length)]!; break;
      case 2: b.splice(at, 0, INTERESTING[rnd.int(INTERESTING.length)]!); break;
      case 3: if (b.length) b.splice(at, 1 + rnd.int(3)); break;
      case 4: b.length = at; break;
      default: if (b.length) b.splice(at, 0, ...b.slice(at, at + 1 + rnd.int(4))); break;
    }
  }
  return Uint8Array.from(b);
}

describe.skipIf(noCompiler !== undefined)('device-c receive checks agree with the TypeScript codec', () => {
  it('gives the same code (and schema field) on the valid vectors and 20,000 mutations of their bodies', () => {
    const tool = join(makeDeviceC('decode', [join('build', 'decode', 'epara-decode')]), 'epara-decode');
    const vectors = (JSON.parse(readFileSync(join(VECTORS_DIR, 'valid.json'), 'utf8')) as { vectors: Array<{ name: string; frame_hex: string }> }).vectors;
    const rnd = mulberry32(0xc0ffee);
    const frames: Uint8Array[] = [];
    for (const v of vectors) frames.push(Uint8Array.from(Buffer.from(v.frame_hex, 'hex')));
    while (frames.length < 20_000 + vectors.length) {
      const f = frames[rnd.int(vectors.length)]!;
      const len = (f[7]! << 8) | f[8]!;
      const body = mutate(f.subarray(9, 9 + len), rnd);
      frames.push(buildFrame(f[1]!, f[2]!, (f[3]! << 8) | f[4]!, (f[5]! << 8) | f[6]!, body));
    }
    const input = frames.map((f) => Buffer.from(f).toString('hex')).join('\n') + '\n';
    const r = spawnSync(tool, [], { cwd: DEVICE_C_DIR, input, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(frames.length);
    const disagreements: string[] = [];
    const byCode = new Map<number, number>();
    lines.forEach((line, i) => {
      const [code, field] = line.split(' ');
      const c = { code: Number(code), field: field ?? '-' };
      const t = tsVerdict(frames[i]!);
      byCode.set(t.code, (byCode.get(t.code) ?? 0) + 1);
      const same = c.code === t.code && (c.code !== 113 || c.field === t.field);
      if (!same && disagreements.length < 10) disagreements.push(`${Buffer.from(frames[i]!).toString('hex')}: C ${c.code} ${c.field}, TypeScript ${t.code} ${t.field}`);
      else if (!same) disagreements.push('');
    });
    console.log(`[device-c] verdicts over ${frames.length} frames: ${[...byCode].sort((a, b) => a[0] - b[0]).map(([k, n]) => `${k}: ${n}`).join(', ')}; disagreements: ${disagreements.length}`);
    expect(disagreements.filter(Boolean).slice(0, 10), `${disagreements.length} disagreements`).toEqual([]);
    // the mutations reach every message-layer verdict, not just one
    for (const code of [0, 111, 112, 113]) expect(byCode.get(code) ?? 0, `verdict ${code}`).toBeGreaterThan(100);
  }, 120_000);
});
