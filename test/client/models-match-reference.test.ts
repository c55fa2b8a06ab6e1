import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { buildModels, fixturesDir, MODEL_SPECS, mulberry32, type ModelName } from '../../scripts/gen-models.js';
import { argmax, decoderReference, mlpReference, readWeights, segReference } from './reference-nets.js';

const dir = fixturesDir();
const path = (m: ModelName) => join(dir, MODEL_SPECS[m].file);

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (Math.abs(a - e) > tol * Math.max(1, Math.abs(e))) throw new Error(`index ${i}: ${a} != ${e}`);
  }
}

describe('fixture models', () => {
  it('the committed .onnx files are exactly what scripts/gen-models.ts builds', () => {
    for (const [name, bytes] of Object.entries(buildModels()) as Array<[ModelName, Uint8Array]>) {
      expect(Buffer.compare(readFileSync(path(name)), Buffer.from(bytes)), name).toBe(0);
    }
  });

  it('mlp-classifier: onnxruntime logits and classes match the plain-TS forward pass for a batch', async () => {
    const w = readWeights(path('mlp-classifier'));
    const rand = mulberry32(101);
    const N = 6;
    const x = Array.from({ length: N }, () => Array.from({ length: 16 }, () => rand() * 4 - 2));
    const s = await ort.InferenceSession.create(path('mlp-classifier'));
    const r = await s.run({ input: new ort.Tensor('float32', Float32Array.from(x.flat()), [N, 16]) });
    expect(r.logits!.dims).toEqual([N, 4]);
    const logits = r.logits!.data as Float32Array;
    const cls = r.class!.data as BigInt64Array;
    const classesSeen = new Set<number>();
    for (let n = 0; n < N; n++) {
      const ref = mlpReference(w, x[n]!);
      expectClose(logits.subarray(n * 4, n * 4 + 4), ref.logits);
      expect(Number(cls[n])).toBe(ref.cls);
      classesSeen.add(ref.cls);
    }
    // The weights are not degenerate: different inputs land in different classes.
    expect(classesSeen.size).toBeGreaterThan(1);
    await s.release();
  });

  it('conv-segmenter: per-pixel scores and the uint8 mask match the plain-TS convolution', async () => {
    const w = readWeights(path('conv-segmenter'));
    const rand = mulberry32(202);
    const N = 3;
    const imgs = Array.from({ length: N }, () => Array.from({ length: 64 }, () => rand() * 2 - 1));
    const s = await ort.InferenceSession.create(path('conv-segmenter'));
    const r = await s.run({ image: new ort.Tensor('float32', Float32Array.from(imgs.flat()), [N, 1, 8, 8]) });
    expect(r.mask!.type).toBe('uint8');
    expect(r.mask!.dims).toEqual([N, 8, 8]);
    const scores = r.scores!.data as Float32Array;
    const mask = r.mask!.data as Uint8Array;
    let ones = 0;
    for (let n = 0; n < N; n++) {
      const ref = segReference(w, imgs[n]!);
      for (let c = 0; c < 2; c++) expectClose(scores.subarray((n * 2 + c) * 64, (n * 2 + c + 1) * 64), ref.scores[c]!);
      expect(Array.from(mask.subarray(n * 64, (n + 1) * 64))).toEqual(ref.mask);
      ones += ref.mask.reduce((a, b) => a + b, 0);
    }
    expect(ones).toBeGreaterThan(0);
    expect(ones).toBeLessThan(N * 64);
    await s.release();
  });

  it('token-decoder: last-position logits and greedy next tokens match the plain-TS decoder over 6 steps', async () => {
    const w = readWeights(path('token-decoder'));
    const s = await ort.InferenceSession.create(path('token-decoder'));
    let ctx = [3, 14, 15, 9, 2, 6, 5, 3];
    const generated: number[] = [];
    for (let step = 0; step < 6; step++) {
      const r = await s.run({ tokens: new ort.Tensor('int64', BigInt64Array.from(ctx.map(BigInt)), [1, 8]) });
      const ref = decoderReference(w, ctx);
      expectClose(r.logits!.data as Float32Array, ref.logits);
      const next = Number((r.next_token!.data as BigInt64Array)[0]);
      expect(next).toBe(ref.next);
      expect(next).toBe(argmax(ref.logits));
      generated.push(next);
      ctx = [...ctx.slice(1), next];
    }
    expect(generated.every((t) => t >= 0 && t < 32)).toBe(true);
    await s.release();
  });

  it('broken.onnx parses as protobuf but onnxruntime refuses to load it', async () => {
    await expect(ort.InferenceSession.create(path('broken'))).rejects.toThrow(/EparaNoSuchOperator/);
  });
});
