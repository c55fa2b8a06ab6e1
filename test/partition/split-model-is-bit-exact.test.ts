import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OnnxModel } from '../../src/client/onnx-runtime.js';
import { partitionOnnx, PartitionError } from '../../src/partition/index.js';
import { tensorFrom, type Tensor } from '../../src/protocol/index.js';
import { mulberry32 } from '../../scripts/gen-models.js';
import { branchyConv, deepChain, twoTowers } from './generated-nets.js';

/**
 * The split model computes exactly what the whole model does: every stage is loaded in
 * onnxruntime the way a device loads it (src/client/onnx-runtime.ts, optimisation level 'all'),
 * run in order with the tensors it names, and the model outputs compared byte for byte with one
 * session of the whole model. Generated models of several shapes, a branchy one among them.
 */
const fixture = (f: string) => new Uint8Array(readFileSync(new URL(`../../fixtures/models/${f}`, import.meta.url)));

function randomInput(name: string, dtype: 'float32' | 'int64', shape: number[], seed: number): Tensor {
  const r = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  if (dtype === 'int64') return tensorFrom(name, BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 32))), shape) as Tensor;
  return tensorFrom(name, Float32Array.from({ length: n }, () => r() * 4 - 2), shape);
}

async function runStages(stages: Uint8Array[], inputs: Tensor[]): Promise<Map<string, Tensor>> {
  const have = new Map(inputs.map((t) => [t.name, t]));
  for (const bytes of stages) {
    const m = await OnnxModel.load(bytes);
    const feed = m.inputs.map((i) => {
      const t = have.get(i.name);
      if (!t) throw new Error(`stage reads ${i.name}, which nothing produced`);
      return t;
    });
    for (const out of await m.run(feed)) have.set(out.name, out);
  }
  return have;
}

const CASES: Array<{ name: string; bytes: () => Uint8Array; inputs: Tensor[] }> = [
  { name: 'a deep chain (12 layers)', bytes: () => deepChain(12, 24), inputs: [randomInput('x', 'float32', [3, 24], 11)] },
  { name: 'a branchy conv net (parallel branches, a skip)', bytes: () => branchyConv(), inputs: [randomInput('img', 'float32', [2, 2, 8, 8], 12)] },
  { name: 'two towers meeting at the end', bytes: () => twoTowers(), inputs: [randomInput('x', 'float32', [2, 16], 13)] },
  { name: 'the token decoder (attention with residuals)', bytes: () => fixture('token-decoder.onnx'), inputs: [randomInput('tokens', 'int64', [2, 8], 14)] },
  { name: 'the MLP classifier (two outputs)', bytes: () => fixture('mlp-classifier.onnx'), inputs: [randomInput('input', 'float32', [4, 16], 15)] },
  { name: 'the conv segmenter', bytes: () => fixture('conv-segmenter.onnx'), inputs: [randomInput('image', 'float32', [1, 1, 8, 8], 16)] },
];

describe('a model split by the partitioner gives bit-identical outputs to the whole model', () => {
  for (const c of CASES) {
    for (const shares of [[0.5, 0.5], [0.2, 0.3, 0.5], [0.7, 0.3]]) {
      it(`${c.name}, stages ${shares.join(' / ')}`, async () => {
        const bytes = c.bytes();
        let split;
        try {
          split = await partitionOnnx(bytes, { shares });
        } catch (e) {
          // A model with fewer nodes than stages is refused with a typed error, never cut wrongly.
          expect(e).toBeInstanceOf(PartitionError);
          expect((e as PartitionError).code).toBe('partition.cannot_cut');
          expect(shares.length).toBeGreaterThan(2);
          return;
        }
        expect(split.stages).toHaveLength(shares.length);
        for (const s of split.stages) expect(s.nodes).toBeGreaterThan(0);
        const whole = await OnnxModel.load(bytes);
        const want = await whole.run(c.inputs);
        const got = await runStages(split.stages.map((s) => s.bytes), c.inputs);
        for (const w of want) {
          const g = got.get(w.name);
          expect(g, w.name).toBeDefined();
          expect(g!.dtype).toBe(w.dtype);
          expect(g!.shape).toEqual(w.shape);
          expect(Buffer.from(g!.data).equals(Buffer.from(w.data)), `${w.name} differs`).toBe(true);
        }
        // Every stage after the first reads something an earlier stage made: a real pipeline.
        const made = new Set(split.inputs);
        for (const s of split.stages) {
          for (const i of s.inputNames) expect(made.has(i), i).toBe(true);
          s.outputNames.forEach((o) => made.add(o));
        }
      });
    }
  }
});
