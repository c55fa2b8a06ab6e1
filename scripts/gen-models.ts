/**
 * Builds the small ONNX models the tests and the demo really run, with deterministic weights
 * from a seeded PRNG, and writes them to fixtures/models/. Run: `npx tsx scripts/gen-models.ts`.
 *
 * The output is byte-for-byte reproducible (protobuf encoding of the same message is stable),
 * and test/client/models-match-reference.test.ts checks the committed files equal a fresh build
 * and that onnxruntime's outputs match a plain-TypeScript forward pass over the weights read
 * back from the files.
 *
 * Opset 13, IR version 8: the oldest versions that have every operator used here with the
 * semantics we rely on (ArgMax keepdims, Softmax on the last axis), all supported by ort 1.30.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
type IValueInfo = onnxProto.onnx.IValueInfoProto;
type IAttribute = onnxProto.onnx.IAttributeProto;

export const OPSET = 13;
export const IR_VERSION = 8;

/** mulberry32: tiny, seedable, good enough for weights; identical on every platform. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(rand: () => number, n: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * scale;
  return out;
}

const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

function f32(name: string, dims: number[], values: Float32Array): ITensor {
  return { name, dims, dataType: DT.FLOAT, rawData: new Uint8Array(values.buffer.slice(0)) };
}

function i64(name: string, dims: number[], values: number[]): ITensor {
  const b = new DataView(new ArrayBuffer(values.length * 8));
  values.forEach((v, i) => b.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims, dataType: DT.INT64, rawData: new Uint8Array(b.buffer) };
}

function valueInfo(name: string, elemType: number, dims: Array<number | string>): IValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function node(opType: string, inputs: string[], outputs: string[], attrs: IAttribute[] = []): INode {
  return { opType, input: inputs, output: outputs, name: `${opType}_${outputs[0]}`, attribute: attrs };
}

const intAttr = (name: string, i: number): IAttribute => ({ name, type: AT.INT, i });
const intsAttr = (name: string, ints: number[]): IAttribute => ({ name, type: AT.INTS, ints });

function model(graphName: string, nodes: INode[], init: ITensor[], inputs: IValueInfo[], outputs: IValueInfo[], doc: string): Uint8Array {
  const m = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'epara-gen-models',
    producerVersion: '1',
    docString: doc,
    opsetImport: [{ domain: '', version: OPSET }],
    graph: { name: graphName, node: nodes, initializer: init, input: inputs, output: outputs },
  });
  return onnx.ModelProto.encode(m).finish();
}

/** Shapes and names the tests, the demo and the emulators rely on. */
export const MODEL_SPECS = {
  'mlp-classifier': {
    file: 'mlp-classifier.onnx',
    seed: 0x5eed0001,
    inputs: { input: { dtype: 'float32', shape: ['N', 16] } },
    outputs: { logits: { dtype: 'float32', shape: ['N', 4] }, class: { dtype: 'int64', shape: ['N'] } },
    dims: { in: 16, hidden: 32, classes: 4 },
  },
  'conv-segmenter': {
    file: 'conv-segmenter.onnx',
    seed: 0x5eed0002,
    inputs: { image: { dtype: 'float32', shape: ['N', 1, 8, 8] } },
    outputs: { scores: { dtype: 'float32', shape: ['N', 2, 8, 8] }, mask: { dtype: 'uint8', shape: ['N', 8, 8] } },
    dims: { height: 8, width: 8, channels: 4, classes: 2 },
  },
  'token-decoder': {
    file: 'token-decoder.onnx',
    seed: 0x5eed0003,
    inputs: { tokens: { dtype: 'int64', shape: ['N', 8] } },
    outputs: { logits: { dtype: 'float32', shape: ['N', 32] }, next_token: { dtype: 'int64', shape: ['N'] } },
    dims: { vocab: 32, model: 16, ffn: 32, context: 8 },
  },
  broken: {
    file: 'broken.onnx',
    seed: 0,
    inputs: { input: { dtype: 'float32', shape: ['N', 16] } },
    outputs: { output: { dtype: 'float32', shape: ['N', 16] } },
    dims: {},
  },
} as const;

export type ModelName = keyof typeof MODEL_SPECS;

/** input[N,16] → Gemm → Relu → Gemm → logits[N,4]; ArgMax → class[N]. */
export function buildMlpClassifier(): Uint8Array {
  const { in: I, hidden: H, classes: C } = MODEL_SPECS['mlp-classifier'].dims;
  const rand = mulberry32(MODEL_SPECS['mlp-classifier'].seed);
  const w1 = uniform(rand, I * H, 1 / Math.sqrt(I));
  const b1 = uniform(rand, H, 0.1);
  const w2 = uniform(rand, H * C, 1 / Math.sqrt(H));
  const b2 = uniform(rand, C, 0.1);
  return model(
    'mlp_classifier',
    [
      node('Gemm', ['input', 'W1', 'B1'], ['h1']),
      node('Relu', ['h1'], ['h1r']),
      node('Gemm', ['h1r', 'W2', 'B2'], ['logits']),
      node('ArgMax', ['logits'], ['class'], [intAttr('axis', 1), intAttr('keepdims', 0)]),
    ],
    [f32('W1', [I, H], w1), f32('B1', [H], b1), f32('W2', [H, C], w2), f32('B2', [C], b2)],
    [valueInfo('input', DT.FLOAT, ['N', I])],
    [valueInfo('logits', DT.FLOAT, ['N', C]), valueInfo('class', DT.INT64, ['N'])],
    'epara test MLP classifier: 16 features -> 32 hidden (ReLU) -> 4 classes',
  );
}

/** image[N,1,8,8] → Conv3x3(4) → Relu → Conv1x1(2) → scores; ArgMax over classes → mask (uint8). */
export function buildConvSegmenter(): Uint8Array {
  const { height: Hh, width: W, channels: K, classes: C } = MODEL_SPECS['conv-segmenter'].dims;
  const rand = mulberry32(MODEL_SPECS['conv-segmenter'].seed);
  const w1 = uniform(rand, K * 1 * 3 * 3, 0.6);
  const b1 = uniform(rand, K, 0.1);
  const w2 = uniform(rand, C * K, 0.1);
  const b2 = new Float32Array([0.05, -0.05]);
  // Channel 0 is a 3×3 box filter and drives the class scores, the other channels are seeded
  // noise: the net marks bright regions (class 1), so the demo's mask is recognisable, and the
  // reference check still covers every weight.
  w1.fill(1 / 9, 0, 9);
  b1[0] = 0;
  w2[0] = -1; // class 0, channel 0
  w2[K] = 1; // class 1, channel 0
  return model(
    'conv_segmenter',
    [
      node('Conv', ['image', 'CW1', 'CB1'], ['c1'], [intsAttr('kernel_shape', [3, 3]), intsAttr('pads', [1, 1, 1, 1])]),
      node('Relu', ['c1'], ['c1r']),
      node('Conv', ['c1r', 'CW2', 'CB2'], ['scores'], [intsAttr('kernel_shape', [1, 1])]),
      node('ArgMax', ['scores'], ['mask64'], [intAttr('axis', 1), intAttr('keepdims', 0)]),
      node('Cast', ['mask64'], ['mask'], [intAttr('to', DT.UINT8)]),
    ],
    [f32('CW1', [K, 1, 3, 3], w1), f32('CB1', [K], b1), f32('CW2', [C, K, 1, 1], w2), f32('CB2', [C], b2)],
    [valueInfo('image', DT.FLOAT, ['N', 1, Hh, W])],
    [valueInfo('scores', DT.FLOAT, ['N', C, Hh, W]), valueInfo('mask', DT.UINT8, ['N', Hh, W])],
    'epara test segmentation net: 8x8 single-channel image -> per-pixel 2-class mask (bright regions are class 1)',
  );
}

/**
 * tokens[N,8] → embedding + position → one decoder block (causal single-head attention and a
 * ReLU feed-forward, both residual) → logits of the last position[N,32]; ArgMax → next_token[N].
 */
export function buildTokenDecoder(): Uint8Array {
  const { vocab: V, model: D, ffn: F, context: T } = MODEL_SPECS['token-decoder'].dims;
  const rand = mulberry32(MODEL_SPECS['token-decoder'].seed);
  const emb = uniform(rand, V * D, 1);
  const pos = uniform(rand, T * D, 0.3);
  const s = 1 / Math.sqrt(D);
  const wq = uniform(rand, D * D, s);
  const wk = uniform(rand, D * D, s);
  const wv = uniform(rand, D * D, s);
  const wo = uniform(rand, D * D, s);
  const f1 = uniform(rand, D * F, s);
  const fb1 = uniform(rand, F, 0.1);
  const f2 = uniform(rand, F * D, 1 / Math.sqrt(F));
  const wout = uniform(rand, D * V, s);
  // Additive causal mask: position i may attend to j <= i. -1e9 underflows to 0 after Softmax.
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) mask[i * T + j] = j <= i ? 0 : -1e9;
  return model(
    'token_decoder',
    [
      node('Gather', ['EMB', 'tokens'], ['tok_emb'], [intAttr('axis', 0)]),
      node('Add', ['tok_emb', 'POS'], ['x']),
      node('MatMul', ['x', 'WQ'], ['q']),
      node('MatMul', ['x', 'WK'], ['k']),
      node('MatMul', ['x', 'WV'], ['v']),
      node('Transpose', ['k'], ['kt'], [intsAttr('perm', [0, 2, 1])]),
      node('MatMul', ['q', 'kt'], ['scores_raw']),
      node('Mul', ['scores_raw', 'SCALE'], ['scores_scaled']),
      node('Add', ['scores_scaled', 'CAUSAL'], ['scores_masked']),
      node('Softmax', ['scores_masked'], ['attn'], [intAttr('axis', -1)]),
      node('MatMul', ['attn', 'v'], ['ctx']),
      node('MatMul', ['ctx', 'WO'], ['attn_out']),
      node('Add', ['x', 'attn_out'], ['h']),
      node('MatMul', ['h', 'F1'], ['ff1']),
      node('Add', ['ff1', 'FB1'], ['ff1b']),
      node('Relu', ['ff1b'], ['ff1r']),
      node('MatMul', ['ff1r', 'F2'], ['ff2']),
      node('Add', ['h', 'ff2'], ['h2']),
      node('MatMul', ['h2', 'WOUT'], ['all_logits']),
      node('Gather', ['all_logits', 'LAST'], ['logits'], [intAttr('axis', 1)]),
      node('ArgMax', ['logits'], ['next_token'], [intAttr('axis', 1), intAttr('keepdims', 0)]),
    ],
    [
      f32('EMB', [V, D], emb),
      f32('POS', [T, D], pos),
      f32('WQ', [D, D], wq),
      f32('WK', [D, D], wk),
      f32('WV', [D, D], wv),
      f32('WO', [D, D], wo),
      f32('SCALE', [], new Float32Array([1 / Math.sqrt(D)])),
      f32('CAUSAL', [T, T], mask),
      f32('F1', [D, F], f1),
      f32('FB1', [F], fb1),
      f32('F2', [F, D], f2),
      f32('WOUT', [D, V], wout),
      i64('LAST', [], [T - 1]),
    ],
    [valueInfo('tokens', DT.INT64, ['N', T])],
    [valueInfo('logits', DT.FLOAT, ['N', V]), valueInfo('next_token', DT.INT64, ['N'])],
    'epara test decoder-style token model: 32-token vocabulary, context 8, one causal attention block',
  );
}

/**
 * A well-formed protobuf that onnxruntime refuses to load (an operator no opset defines), so
 * rollback tests exercise the runtime's own failure rather than a corrupt download.
 */
export function buildBroken(): Uint8Array {
  return model(
    'broken',
    [node('EparaNoSuchOperator', ['input'], ['output'])],
    [],
    [valueInfo('input', DT.FLOAT, ['N', 16])],
    [valueInfo('output', DT.FLOAT, ['N', 16])],
    'epara test model that fails to load: uses an operator that does not exist',
  );
}

export function buildModels(): Record<ModelName, Uint8Array> {
  return {
    'mlp-classifier': buildMlpClassifier(),
    'conv-segmenter': buildConvSegmenter(),
    'token-decoder': buildTokenDecoder(),
    broken: buildBroken(),
  };
}

/** fixtures/models, found from this file whether it runs from source or from dist/. */
export function fixturesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const up = here.includes(`${join('dist', 'scripts')}`) ? join(here, '..', '..') : join(here, '..');
  return join(up, 'fixtures', 'models');
}

function main(): void {
  const dir = process.argv[2] ?? fixturesDir();
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(buildModels()) as Array<[ModelName, Uint8Array]>) {
    const path = join(dir, MODEL_SPECS[name].file);
    writeFileSync(path, bytes);
    process.stdout.write(`wrote ${path} (${bytes.length} bytes)\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
