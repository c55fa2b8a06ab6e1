/**
 * A real model of a few MB for the pipeline demo and tests: x[N,16] → Gemm 16→W → `layers` ×
 * (Gemm W→W, Relu) → Gemm W→10 → logits, ArgMax → class. Weights come from a seeded PRNG, so the
 * bytes are the same on every run. With W = 384 and 5 hidden layers it is 3.0 MB (2.86 MiB): more than an
 * emulated device with a 2 MiB model-memory budget holds, so it must be split over devices.
 * Encoded with onnx-proto (src/partition's lazy codec, an optional peer dependency).
 */
import { loadOnnxCodec } from '../src/partition/onnx-proto-module.js';
import type { OnnxNode, OnnxTensor } from '../src/partition/onnx-shapes.js';
import { mulberry32 } from './links/prng.js';

const FLOAT = 1;
const INT64 = 7;

export interface WideMlpOptions {
  width?: number;
  layers?: number;
  seed?: number;
}

export async function buildWideMlp(o: WideMlpOptions = {}): Promise<Uint8Array> {
  const width = o.width ?? 384;
  const layers = o.layers ?? 5;
  const rand = mulberry32(o.seed ?? 0x5eed0017);
  const weights = (name: string, dims: number[], scale: number): OnnxTensor => {
    const n = dims.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = (rand.next() * 2 - 1) * scale;
    return { name, dims, dataType: FLOAT, rawData: new Uint8Array(v.buffer) };
  };
  const nodes: OnnxNode[] = [];
  const init: OnnxTensor[] = [];
  const gemm = (i: number, x: string, inW: number, outW: number, y: string) => {
    init.push(weights(`W${i}`, [inW, outW], 1 / Math.sqrt(inW)), weights(`B${i}`, [outW], 0.05));
    nodes.push({ opType: 'Gemm', input: [x, `W${i}`, `B${i}`], output: [y], name: `gemm${i}` });
  };
  gemm(0, 'x', 16, width, 'g0');
  nodes.push({ opType: 'Relu', input: ['g0'], output: ['h0'], name: 'relu0' });
  for (let l = 1; l <= layers; l++) {
    gemm(l, `h${l - 1}`, width, width, `g${l}`);
    nodes.push({ opType: 'Relu', input: [`g${l}`], output: [`h${l}`], name: `relu${l}` });
  }
  gemm(layers + 1, `h${layers}`, width, 10, 'logits');
  nodes.push({ opType: 'ArgMax', input: ['logits'], output: ['class'], name: 'argmax', attribute: [{ name: 'axis', type: 2, i: 1 }, { name: 'keepdims', type: 2, i: 0 }] });
  const vi = (name: string, elemType: number, dims: Array<number | string>) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
  const codec = await loadOnnxCodec();
  return codec.encode({
    irVersion: 8,
    producerName: 'epara-wide-mlp',
    opsetImport: [{ domain: '', version: 13 }],
    graph: { name: 'wide_mlp', node: nodes, initializer: init, input: [vi('x', FLOAT, ['N', 16])], output: [vi('logits', FLOAT, ['N', 10]), vi('class', INT64, ['N'])] },
  });
}
