import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxModel } from '../../src/client/onnx-runtime.js';
import { tensorFrom, tensorValues } from '../../src/protocol/tensor.js';
import { DeployError, InferError } from '../../src/errors.js';
import { fixturesDir, mulberry32 } from '../../scripts/gen-models.js';
import { decoderReference, mlpReference, readWeights } from './reference-nets.js';

const file = (n: string) => join(fixturesDir(), `${n}.onnx`);

describe('OnnxModel (real onnxruntime sessions)', () => {
  let mlp: OnnxModel;
  beforeAll(async () => {
    mlp = await OnnxModel.load(file('mlp-classifier'));
  });
  afterAll(async () => {
    await mlp.release();
  });

  it('reads names, dtypes and symbolic batch dimensions from the model', () => {
    expect(mlp.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['N', 16] }]);
    expect(mlp.outputs.map((o) => [o.name, o.dtype])).toEqual([['logits', 'float32'], ['class', 'int64']]);
    expect(mlp.batchable).toBe(true);
  });

  it('runs protocol tensors and returns protocol tensors equal to the reference', async () => {
    const w = readWeights(file('mlp-classifier'));
    const x = Array.from({ length: 16 }, (_, i) => Math.cos(i));
    await mlp.warmUp();
    const [logits, cls] = await mlp.run([tensorFrom('input', Float32Array.from(x), [1, 16])]);
    const ref = mlpReference(w, x);
    expect(logits!.shape).toEqual([1, 4]);
    Array.from(tensorValues(logits!) as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(ref.logits[i]!, 4));
    expect(cls!.dtype).toBe('int64');
    expect(Number((tensorValues(cls!) as BigInt64Array)[0])).toBe(ref.cls);
  });

  it('runBatch stacks requests of different batch sizes into one run and splits the outputs back', async () => {
    const w = readWeights(file('mlp-classifier'));
    const rand = mulberry32(9);
    const reqs = [1, 3, 2].map((n) => Array.from({ length: n }, () => Array.from({ length: 16 }, () => rand() * 2 - 1)));
    const out = await mlp.runBatch(reqs.map((rows) => [tensorFrom('input', Float32Array.from(rows.flat()), [rows.length, 16])]));
    expect(out.map((o) => o[0]!.shape)).toEqual([[1, 4], [3, 4], [2, 4]]);
    reqs.forEach((rows, i) => {
      const cls = tensorValues(out[i]![1]!) as BigInt64Array;
      rows.forEach((row, r) => expect(Number(cls[r])).toBe(mlpReference(w, row).cls));
    });
  });

  it('rejects wrong names, dtypes, shapes and byte counts with infer.bad_input before ort sees them', async () => {
    const ok = Float32Array.from({ length: 16 }, () => 0.1);
    const cases = [
      [tensorFrom('nope', ok, [1, 16])],
      [tensorFrom('input', Float64Array.from(ok), [1, 16])],
      [tensorFrom('input', ok, [2, 8])],
      [tensorFrom('input', ok, [16])],
      [{ name: 'input', dtype: 'float32' as const, shape: [1, 16], data: new Uint8Array(10) }],
      [],
      [tensorFrom('input', ok, [1, 16]), tensorFrom('input', ok, [1, 16])],
    ];
    for (const inputs of cases) {
      const err = await mlp.run(inputs).catch((e) => e);
      expect(err).toBeInstanceOf(InferError);
      expect(err.code).toBe('infer.bad_input');
      expect(err.wire).toBe(502);
    }
  });

  it('reports an out-of-vocabulary token as infer.runtime, not a crash', async () => {
    const dec = await OnnxModel.load(file('token-decoder'));
    const err = await dec.run([tensorFrom('tokens', BigInt64Array.from([1n, 2n, 3n, 4n, 5n, 6n, 7n, 99n]), [1, 8])]).catch((e) => e);
    expect(err).toBeInstanceOf(InferError);
    expect(err.code).toBe('infer.runtime');
    const ctx = [1, 2, 3, 4, 5, 6, 7, 8];
    const [, next] = await dec.run([tensorFrom('tokens', BigInt64Array.from(ctx.map(BigInt)), [1, 8])]);
    expect(Number((tensorValues(next!) as BigInt64Array)[0])).toBe(decoderReference(readWeights(file('token-decoder')), ctx).next);
    await dec.release();
  });

  it('loads from bytes as well as from a path', async () => {
    const seg = await OnnxModel.load(new Uint8Array(readFileSync(file('conv-segmenter'))));
    const [, mask] = await seg.run([tensorFrom('image', new Float32Array(64), [1, 1, 8, 8])]);
    expect(mask!.dtype).toBe('uint8');
    expect(mask!.shape).toEqual([1, 8, 8]);
    await seg.release();
  });

  it('fails to load broken.onnx and garbage bytes with deploy.load_failed', async () => {
    for (const m of [file('broken'), new Uint8Array([1, 2, 3, 4, 5])]) {
      const err = await OnnxModel.load(m).catch((e) => e);
      expect(err).toBeInstanceOf(DeployError);
      expect(err.code).toBe('deploy.load_failed');
      expect(err.reason.includes('\n')).toBe(false);
    }
  });
});
