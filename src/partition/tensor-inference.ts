/**
 * Element types and shapes of a graph's intermediate tensors, for the cuts: a stage's inputs and
 * outputs must be declared with their element type (onnxruntime refuses an untyped graph input),
 * and a cut is priced by the bytes that cross it. `value_info` in the model wins; otherwise the
 * common operators are inferred here (the ones generated models and small CNN / MLP / attention
 * blocks use). A tensor whose type stays unknown is never cut at (the partitioner's rule), so an
 * operator missing from this table costs cut freedom, not correctness. Pure.
 */
import { ELEM, toNum, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-shapes.js';

/** A dimension: a number, a symbolic name ('N'), or unknown (undefined). */
export type Dim = number | string | undefined;
export interface TensorInfo {
  elemType?: number;
  /** Undefined: rank unknown. */
  shape?: Dim[];
}

const SAME = new Set(['Relu', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Abs', 'Neg', 'Sqrt', 'Erf', 'Softmax', 'LogSoftmax', 'Identity', 'LeakyRelu', 'Clip', 'Gelu', 'Elu', 'Selu', 'HardSigmoid', 'HardSwish', 'Softplus', 'Softsign', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos', 'Dropout', 'BatchNormalization', 'LayerNormalization', 'InstanceNormalization', 'LRN', 'Not', 'Sign', 'Mish']);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'Mod', 'BitShift']);
const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);
const REDUCE = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL2', 'ReduceL1', 'ReduceLogSumExp', 'ReduceSumSquare']);

function attr(n: OnnxNode, name: string): OnnxAttribute | undefined {
  return n.attribute?.find((a) => a.name === name) ?? undefined;
}
const attrInt = (n: OnnxNode, name: string, dflt: number): number => {
  const a = attr(n, name);
  return a && a.i !== undefined && a.i !== null ? toNum(a.i) : dflt;
};
const attrInts = (n: OnnxNode, name: string): number[] | undefined => {
  const a = attr(n, name);
  return a?.ints && a.ints.length ? a.ints.map(toNum) : undefined;
};

/** The integer values of a constant tensor (an initializer or a Constant's value), or undefined. */
export function intValues(t: OnnxTensor | undefined): number[] | undefined {
  if (!t) return undefined;
  if (t.int64Data?.length) return t.int64Data.map(toNum);
  if (t.int32Data?.length) return [...t.int32Data];
  const raw = t.rawData;
  if (!raw || raw.length === 0) return t.dims && t.dims.length === 0 ? undefined : [];
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (t.dataType === ELEM.INT64) return Array.from({ length: raw.byteLength / 8 }, (_, i) => Number(dv.getBigInt64(i * 8, true)));
  if (t.dataType === ELEM.INT32) return Array.from({ length: raw.byteLength / 4 }, (_, i) => dv.getInt32(i * 4, true));
  return undefined;
}

function broadcast(shapes: Array<Dim[] | undefined>): Dim[] | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const v = s![s!.length - rank + i];
      if (v === undefined && s!.length - rank + i >= 0) return undefined;
      if (v === undefined || v === 1) continue;
      if (d === 1) d = v;
      else if (d !== v) return undefined;
    }
    out.push(d);
  }
  return out;
}

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

function spatial(x: Dim[], kernel: number[], n: OnnxNode, outChannels: Dim): Dim[] | undefined {
  const k = kernel.length;
  if (x.length !== k + 2) return undefined;
  // SAME_UPPER / SAME_LOWER / VALID pad by rules of their own: left unknown.
  const autoPad = attr(n, 'auto_pad')?.s;
  if (autoPad && autoPad.length && new TextDecoder().decode(autoPad) !== 'NOTSET') return undefined;
  const pads = attrInts(n, 'pads') ?? new Array<number>(2 * k).fill(0);
  const strides = attrInts(n, 'strides') ?? new Array<number>(k).fill(1);
  const dil = attrInts(n, 'dilations') ?? new Array<number>(k).fill(1);
  const ceil = attrInt(n, 'ceil_mode', 0) === 1;
  const out: Dim[] = [x[0], outChannels];
  for (let i = 0; i < k; i++) {
    const d = x[i + 2];
    if (typeof d !== 'number') return undefined;
    const eff = (kernel[i]! - 1) * dil[i]! + 1;
    const v = (d + pads[i]! + pads[i + k]! - eff) / strides[i]! + 1;
    out.push(ceil ? Math.ceil(v) : Math.floor(v));
  }
  return out;
}

/**
 * The type and shape of each output of `n`, from its inputs' and the constants' values
 * (`constant(name)` answers initializers and Constant outputs). Unknowns stay undefined.
 */
export function inferNode(n: OnnxNode, input: (i: number) => TensorInfo | undefined, constant: (name: string) => OnnxTensor | undefined): TensorInfo[] {
  const op = n.opType ?? '';
  const a = input(0);
  const ins = (n.input ?? []).map((_, i) => input(i));
  const one = (t: TensorInfo): TensorInfo[] => [t];
  if (n.domain && n.domain !== 'ai.onnx') return [];
  if (SAME.has(op)) return one({ elemType: a?.elemType, shape: a?.shape });
  if (BROADCAST.has(op)) return one({ elemType: a?.elemType, shape: broadcast(ins.filter(Boolean).map((t) => t!.shape)) });
  if (COMPARE.has(op)) return one({ elemType: ELEM.BOOL, shape: broadcast(ins.map((t) => t?.shape)) });
  const x = a?.shape;
  switch (op) {
    case 'Where':
      return one({ elemType: ins[1]?.elemType, shape: broadcast(ins.map((t) => t?.shape)) });
    case 'Cast':
      return one({ elemType: attrInt(n, 'to', 0) || undefined, shape: x });
    case 'Shape':
      return one({ elemType: ELEM.INT64, shape: x ? [x.length] : [undefined] });
    case 'ArgMax':
    case 'ArgMin': {
      if (!x) return one({ elemType: ELEM.INT64 });
      const ax = norm(attrInt(n, 'axis', 0), x.length);
      const keep = attrInt(n, 'keepdims', 1) === 1;
      return one({ elemType: ELEM.INT64, shape: x.flatMap((d, i) => (i === ax ? (keep ? [1] : []) : [d])) });
    }
    case 'MatMul': {
      const b = ins[1]?.shape;
      if (!x || !b || x.length === 0 || b.length === 0) return one({ elemType: a?.elemType });
      const xa = x.length === 1 ? [1, x[0]] : x;
      const ba = b.length === 1 ? [b[0], 1] : b;
      const batch = broadcast([xa.slice(0, -2), ba.slice(0, -2)]);
      if (!batch) return one({ elemType: a?.elemType });
      const out = [...batch, ...(x.length === 1 ? [] : [xa[xa.length - 2]]), ...(b.length === 1 ? [] : [ba[ba.length - 1]])];
      return one({ elemType: a?.elemType, shape: out });
    }
    case 'Gemm': {
      const b = ins[1]?.shape;
      if (!x || !b || x.length !== 2 || b.length !== 2) return one({ elemType: a?.elemType });
      const m = attrInt(n, 'transA', 0) ? x[1] : x[0];
      const nn = attrInt(n, 'transB', 0) ? b[0] : b[1];
      return one({ elemType: a?.elemType, shape: [m, nn] });
    }
    case 'Conv': {
      const w = ins[1]?.shape;
      const kernel = attrInts(n, 'kernel_shape') ?? (w ? (w.slice(2) as number[]) : undefined);
      if (!x || !w || !kernel || kernel.some((k) => typeof k !== 'number')) return one({ elemType: a?.elemType });
      return one({ elemType: a?.elemType, shape: spatial(x, kernel, n, w[0]) });
    }
    case 'MaxPool':
    case 'AveragePool': {
      const kernel = attrInts(n, 'kernel_shape');
      if (!x || !kernel) return one({ elemType: a?.elemType });
      return [{ elemType: a?.elemType, shape: spatial(x, kernel, n, x[1]) }];
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return one({ elemType: a?.elemType, shape: x ? [x[0], x[1], ...x.slice(2).map(() => 1)] : undefined });
    case 'Flatten': {
      if (!x) return one({ elemType: a?.elemType });
      const ax = norm(attrInt(n, 'axis', 1), x.length);
      const prod = (ds: Dim[]): Dim => (ds.every((d) => typeof d === 'number') ? (ds as number[]).reduce((p, q) => p * q, 1) : ds.length === 1 ? ds[0] : undefined);
      return one({ elemType: a?.elemType, shape: [prod(x.slice(0, ax)), prod(x.slice(ax))] });
    }
    case 'Transpose': {
      if (!x) return one({ elemType: a?.elemType });
      const perm = attrInts(n, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      return one({ elemType: a?.elemType, shape: perm.map((p) => x[p]) });
    }
    case 'Reshape': {
      const target = intValues(constant(n.input?.[1] ?? ''));
      if (!target) return one({ elemType: a?.elemType });
      const out: Dim[] = target.map((d, i) => (d === 0 ? x?.[i] : d === -1 ? undefined : d));
      const known = x?.every((d) => typeof d === 'number') ? (x as number[]).reduce((p, q) => p * q, 1) : undefined;
      const minus = target.indexOf(-1);
      if (minus >= 0 && known !== undefined) {
        const rest = out.reduce<number | undefined>((p, d, i) => (i === minus || p === undefined || typeof d !== 'number' ? (i === minus ? p : undefined) : p * d), 1);
        out[minus] = rest ? known / rest : undefined;
      }
      return one({ elemType: a?.elemType, shape: out });
    }
    case 'Concat': {
      if (ins.some((t) => !t?.shape)) return one({ elemType: a?.elemType });
      const ax = norm(attrInt(n, 'axis', 0), x!.length);
      const sum = ins.reduce<Dim>((s, t) => (typeof s === 'number' && typeof t!.shape![ax] === 'number' ? s + (t!.shape![ax] as number) : undefined), 0);
      return one({ elemType: a?.elemType, shape: x!.map((d, i) => (i === ax ? sum : d)) });
    }
    case 'Gather': {
      const idx = ins[1];
      if (!x || !idx?.shape) return one({ elemType: a?.elemType });
      const ax = norm(attrInt(n, 'axis', 0), x.length);
      return one({ elemType: a?.elemType, shape: [...x.slice(0, ax), ...idx.shape, ...x.slice(ax + 1)] });
    }
    case 'Unsqueeze':
    case 'Squeeze': {
      const axes = intValues(constant(n.input?.[1] ?? '')) ?? attrInts(n, 'axes');
      if (!x || !axes) return one({ elemType: a?.elemType });
      if (op === 'Squeeze') {
        const drop = new Set(axes.map((v) => norm(v, x.length)));
        return one({ elemType: a?.elemType, shape: x.filter((_, i) => !drop.has(i)) });
      }
      const rank = x.length + axes.length;
      const add = new Set(axes.map((v) => norm(v, rank)));
      const out: Dim[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) out.push(add.has(i) ? 1 : x[j++]);
      return one({ elemType: a?.elemType, shape: out });
    }
    default:
      if (REDUCE.has(op)) {
        const axes = attrInts(n, 'axes') ?? intValues(constant(n.input?.[1] ?? ''));
        if (!x || !axes) return one({ elemType: a?.elemType });
        const set = new Set(axes.map((v) => norm(v, x.length)));
        const keep = attrInt(n, 'keepdims', 1) === 1;
        return one({ elemType: a?.elemType, shape: x.flatMap((d, i) => (set.has(i) ? (keep ? [1] : []) : [d])) });
      }
      // Unknown operator: its outputs stay untyped, so no cut is placed right after it.
      return [];
  }
}

/** Bytes of one request's worth of the tensor (symbolic dimensions taken as 1), or undefined. */
export function tensorBytes(t: TensorInfo | undefined, elemBytes: Readonly<Record<number, number>>): number | undefined {
  if (!t?.shape || t.elemType === undefined) return undefined;
  const size = elemBytes[t.elemType];
  if (size === undefined) return undefined;
  let n = size;
  for (const d of t.shape) {
    if (d === undefined) return undefined;
    n *= typeof d === 'number' ? d : 1;
  }
  return n;
}
