/**
 * The TypeScript behavioural model (src/conformance/int8-fc-model.ts) and the
 * Verilog kernel (hdl/basys3/rtl/int8_fc.v, under Icarus) must agree bit for bit
 * on fresh random weights and inputs, including saturating int8 extremes and
 * int32 wrap-around of the bias.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Int8FcModel, int8FcArtifact, BASYS3_FC_DIMS } from '../../src/conformance/int8-fc-model.js';
import { missingTools, run } from './hdl-project.js';

const missing = missingTools('int8-fc model vs RTL', ['iverilog', 'vvp']);

describe('Int8FcModel', () => {
  it('computes ReLU(bias + W·x) with int32 wrap and lowest-index argmax', () => {
    const w = new Int8Array(64);
    w[0] = 1; w[16 + 1] = 2; w[32 + 2] = 2;
    const m = new Int8FcModel(int8FcArtifact(w, Int32Array.from([0, 0, 0, 0x7fffffff])));
    const x = new Int8Array(16);
    x[0] = 5; x[1] = 3; x[2] = 3;
    const r = m.infer(x);
    expect(Array.from(r.scores)).toEqual([5, 6, 6, 0x7fffffff]);
    expect(r.classIndex).toBe(3);
    const r2 = new Int8FcModel(int8FcArtifact(w, Int32Array.from([0, 0, 0, -1]))).infer(x);
    expect(Array.from(r2.scores)).toEqual([5, 6, 6, 0]);
    expect(r2.classIndex).toBe(1); // tie between 1 and 2: lowest index
  });
  it('rejects a wrong-size artifact or input with typed errors', () => {
    expect(() => new Int8FcModel(new Uint8Array(79))).toThrow(expect.objectContaining({ code: 'deploy.load_failed' }));
    const m = new Int8FcModel(new Uint8Array(80));
    expect(() => m.infer(new Int8Array(15))).toThrow(expect.objectContaining({ code: 'infer.bad_input' }));
  });
});

describe.skipIf(missing.length > 0)('Int8FcModel vs int8_fc.v under Icarus', () => {
  it('agrees on random weights and inputs', () => {
    const work = mkdtempSync(join(tmpdir(), 'epara-fc-'));
    try {
      let seed = (Date.now() & 0xffff) | 1;
      const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
      const s8 = () => { const r = rnd(); return r < 8 ? -128 : r > 247 ? 127 : r - 128; };
      const sets = 4, per = 10;
      const bytes: number[] = [sets];
      const models: Int8FcModel[] = [];
      const inputs: Int8Array[][] = [];
      for (let s = 0; s < sets; s++) {
        const w = Int8Array.from({ length: 64 }, s8);
        const b = Int32Array.from({ length: 4 }, () => ((rnd() << 24) | (rnd() << 16) | (rnd() << 8) | rnd()) >> (s * 6));
        const art = int8FcArtifact(w, b);
        models.push(new Int8FcModel(art));
        bytes.push(...art, per);
        inputs.push([]);
        for (let k = 0; k < per; k++) {
          const x = Int8Array.from({ length: BASYS3_FC_DIMS.inputs }, s8);
          inputs[s]!.push(x);
          // expected values are zero here: the comparison below uses the RTL's printed results
          bytes.push(...new Uint8Array(x.buffer), 0, ...new Uint8Array(16));
        }
      }
      const hex = join(work, 'fc.hex');
      writeFileSync(hex, bytes.map((v) => (v & 0xff).toString(16).padStart(2, '0')).join('\n') + '\n');
      const vvp = join(work, 'fc.vvp');
      expect(run('iverilog', ['-g2005', '-o', vvp, 'tb/tb_int8_fc.v', 'rtl/int8_fc.v']).status).toBe(0);
      const r = run('vvp', ['-n', vvp, `+vectors=${hex}`]);
      const results = r.stdout.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => l.split(' ').slice(1).map(Number));
      expect(results.length).toBe(sets * per);
      let agree = 0;
      for (const [s, k, cls, ...scores] of results) {
        const want = models[s!]!.infer(inputs[s!]![k!]!);
        expect({ s, k, cls, scores }).toEqual({ s, k, cls: want.classIndex, scores: Array.from(want.scores) });
        agree++;
      }
      console.log(`[hdl] int8-fc: TypeScript model and RTL agree on ${agree} random inferences (seed ${seed})`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
