/**
 * Small ONNX models of several shapes for the partitioner's tests, built with onnx-proto (what
 * scripts/gen-models.ts uses) from a seeded PRNG: a deep chain, a branchy conv net (two parallel
 * branches joined by Add, a skip joined by Concat), and a two-tower net whose towers meet only at
 * the end (so every cut through the middle carries two tensors).
 */
import onnxProto from 'onnx-proto';
import { mulberry32 } from '../../scripts/gen-models.js';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;

const f32 = (name: string, dims: number[], rand: () => number, scale: number): ITensor => {
  const n = dims.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (rand() * 2 - 1) * scale;
  return { name, dims, dataType: DT.FLOAT, rawData: new Uint8Array(v.buffer) };
};
const vi = (name: string, elemType: number, dims: Array<number | string>) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
const node = (opType: string, input: string[], output: string[], attribute: onnxProto.onnx.IAttributeProto[] = []): INode => ({ opType, input, output, name: `${opType}_${output[0]}`, attribute });
const ints = (name: string, v: number[]) => ({ name, type: AT.INTS, ints: v });
const int = (name: string, i: number) => ({ name, type: AT.INT, i });

function encode(name: string, nodes: INode[], init: ITensor[], inputs: unknown[], outputs: unknown[]): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion: 8, producerName: 'epara-test', opsetImport: [{ domain: '', version: 13 }], graph: { name, node: nodes, initializer: init, input: inputs as never, output: outputs as never } }),
  ).finish();
}

/** x[N,width] → depth × (MatMul, Add, Relu) → y[N,width], and ArgMax → cls[N]. */
export function deepChain(depth: number, width: number, seed = 1): Uint8Array {
  const r = mulberry32(seed);
  const nodes: INode[] = [];
  const init: ITensor[] = [];
  let x = 'x';
  for (let i = 0; i < depth; i++) {
    init.push(f32(`W${i}`, [width, width], r, 1 / Math.sqrt(width)), f32(`B${i}`, [width], r, 0.1));
    nodes.push(node('MatMul', [x, `W${i}`], [`m${i}`]), node('Add', [`m${i}`, `B${i}`], [`a${i}`]), node('Relu', [`a${i}`], [i === depth - 1 ? 'y' : `h${i}`]));
    x = `h${i}`;
  }
  nodes.push(node('ArgMax', ['y'], ['cls'], [int('axis', 1), int('keepdims', 0)]));
  return encode('deep_chain', nodes, init, [vi('x', DT.FLOAT, ['N', width])], [vi('y', DT.FLOAT, ['N', width]), vi('cls', DT.INT64, ['N'])]);
}

/**
 * img[N,2,8,8] → Conv3×3 → Relu → { Conv3×3, Conv1×1 } → Add → Relu → Concat(with the first
 * activation) → Conv1×1 → GlobalAveragePool → Flatten → Gemm → logits[N,5]. Branchy: two paths
 * between the first Relu and the Add, and a skip around both.
 */
export function branchyConv(channels = 6, seed = 2): Uint8Array {
  const r = mulberry32(seed);
  const C = channels;
  const init = [
    f32('K1', [C, 2, 3, 3], r, 0.4), f32('b1', [C], r, 0.1),
    f32('K2a', [C, C, 3, 3], r, 0.2), f32('b2a', [C], r, 0.1),
    f32('K2b', [C, C, 1, 1], r, 0.3), f32('b2b', [C], r, 0.1),
    f32('K3', [C, 2 * C, 1, 1], r, 0.3), f32('b3', [C], r, 0.1),
    f32('G', [C, 5], r, 0.5), f32('g', [5], r, 0.1),
  ];
  const pad = ints('pads', [1, 1, 1, 1]);
  const nodes = [
    node('Conv', ['img', 'K1', 'b1'], ['c1'], [ints('kernel_shape', [3, 3]), pad]),
    node('Relu', ['c1'], ['r1']),
    node('Conv', ['r1', 'K2a', 'b2a'], ['c2a'], [ints('kernel_shape', [3, 3]), pad]),
    node('Conv', ['r1', 'K2b', 'b2b'], ['c2b'], [ints('kernel_shape', [1, 1])]),
    node('Add', ['c2a', 'c2b'], ['s2']),
    node('Relu', ['s2'], ['r2']),
    node('Concat', ['r2', 'r1'], ['cat'], [int('axis', 1)]),
    node('Conv', ['cat', 'K3', 'b3'], ['c3'], [ints('kernel_shape', [1, 1])]),
    node('GlobalAveragePool', ['c3'], ['gap']),
    node('Flatten', ['gap'], ['flat']),
    node('Gemm', ['flat', 'G', 'g'], ['logits']),
  ];
  return encode('branchy_conv', nodes, init, [vi('img', DT.FLOAT, ['N', 2, 8, 8])], [vi('logits', DT.FLOAT, ['N', 5])]);
}

/** x[N,16] feeds two towers of three MatMul+Tanh each; they meet in a final Add and Softmax. */
export function twoTowers(seed = 3): Uint8Array {
  const r = mulberry32(seed);
  const nodes: INode[] = [];
  const init: ITensor[] = [];
  for (const t of ['a', 'b']) {
    let x = 'x';
    for (let i = 0; i < 3; i++) {
      init.push(f32(`W${t}${i}`, [16, 16], r, 0.3));
      nodes.push(node('MatMul', [x, `W${t}${i}`], [`m${t}${i}`]), node('Tanh', [`m${t}${i}`], [`t${t}${i}`]));
      x = `t${t}${i}`;
    }
  }
  nodes.push(node('Add', ['ta2', 'tb2'], ['sum']), node('Softmax', ['sum'], ['p'], [int('axis', 1)]));
  return encode('two_towers', nodes, init, [vi('x', DT.FLOAT, ['N', 16])], [vi('p', DT.FLOAT, ['N', 16])]);
}
