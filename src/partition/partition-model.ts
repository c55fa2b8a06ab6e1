/**
 * The ONNX graph partitioner: splits a model into pipeline stages at tensor boundaries, balanced
 * by the shares the allocator gives each device (src/scheduler/allocator.ts splitModel: speed,
 * capped by memory), with the fewest and smallest activations crossing each cut. Every stage is
 * an ordinary ONNX model; run in order, feeding each the tensors it names, they compute exactly
 * what the whole model does (same operators on the same values).
 */
import { createHash } from 'node:crypto';
import { chooseCuts } from './choose-cuts.js';
import { fusesAcross } from './fusion-boundaries.js';
import { analyseGraph, type AnalysedGraph } from './onnx-graph.js';
import { loadOnnxCodec } from './onnx-proto-module.js';
import { ELEM_BYTES, type OnnxModel } from './onnx-shapes.js';
import { partitionError } from './partition-errors.js';
import { buildStages, type StageGraph } from './stage-models.js';
import { tensorBytes } from './tensor-inference.js';

/** Most stages in one pipeline (PLACEMENT pipeline `count` is 1..255). */
export const MAX_STAGES = 255;

export interface PartitionOptions {
  /** Share of the model each stage should hold, in stage order (sums to 1). */
  shares: readonly number[];
  /** Most bytes of weights each stage may hold (a device's free model memory), or undefined. */
  capBytes?: ReadonlyArray<number | undefined>;
  /** Balance slack within which fewer / smaller cut tensors win, fraction of the model (default 0.1). */
  tolerance?: number;
}

export interface PartitionStage {
  index: number;
  count: number;
  /** Tensors the stage reads, in the order it declares them. */
  inputNames: string[];
  /** Tensors it produces: what later stages read and the model outputs it makes. */
  outputNames: string[];
  /** The stage as a serialised ONNX model. */
  bytes: Uint8Array;
  sha256: string;
  weightBytes: number;
  nodes: number;
}

export interface Partition {
  stages: PartitionStage[];
  /** The whole model's inputs and outputs. */
  inputs: string[];
  outputs: string[];
  /** Per cut: how many tensors and bytes (one request) cross it. */
  crossing: Array<{ count: number; bytes: number }>;
  totalWeightBytes: number;
}

function checkOptions(o: PartitionOptions): void {
  const k = o.shares.length;
  if (k < 2 || k > MAX_STAGES) throw partitionError('partition.bad_request', `${k} stage(s) asked for; a pipeline has 2..${MAX_STAGES}`, 'deploy the model whole when one device holds it');
  if (o.shares.some((s) => !(s > 0) || !Number.isFinite(s)) || Math.abs(o.shares.reduce((a, b) => a + b, 0) - 1) > 1e-6) {
    throw partitionError('partition.bad_request', `stage shares ${JSON.stringify(o.shares)} are not positive numbers summing to 1`, "pass the allocator's splitModel fractions (src/scheduler/allocator.ts)");
  }
  if (o.capBytes && o.capBytes.length !== k) throw partitionError('partition.bad_request', `${o.capBytes.length} memory caps for ${k} stages`, 'give one cap (or undefined) per stage');
}

/** The pure part: cuts and stage graphs of a decoded model. */
export function partitionGraph(model: OnnxModel, o: PartitionOptions): { graph: AnalysedGraph; stages: StageGraph[]; crossing: Partition['crossing'] } {
  checkOptions(o);
  const g = analyseGraph(model);
  const pos = new Map<string, number>();
  g.order.forEach((n, p) => n.writes.forEach((w) => pos.set(w, p)));
  const last = new Map<string, number>();
  const readers = new Map<string, string[]>();
  g.order.forEach((n, p) =>
    n.reads.forEach((r) => {
      last.set(r, Math.max(last.get(r) ?? -1, p));
      readers.set(r, [...(readers.get(r) ?? []), n.node.opType ?? '']);
    }),
  );
  const tensors = [...pos].map(([name, from]) => {
    const info = g.info.get(name);
    const typed = info?.elemType !== undefined && ELEM_BYTES[info.elemType] !== undefined;
    // A cut through a fused pattern would change the bits (fusion-boundaries.ts): treated like an untyped tensor.
    const cuttable = typed && !fusesAcross(g.order[from]!.node.opType ?? '', readers.get(name) ?? []);
    return { from, to: last.get(name) ?? from, bytes: tensorBytes(info, ELEM_BYTES), typed: cuttable };
  });
  const choice = chooseCuts({ weights: g.order.map((n) => n.weightBytes + 1), tensors, shares: o.shares, ...(o.capBytes ? { caps: o.capBytes } : {}), ...(o.tolerance !== undefined ? { tolerance: o.tolerance } : {}) });
  if ('impossible' in choice) {
    throw partitionError('partition.cannot_cut', `the model (${g.order.length} nodes, ${g.totalWeightBytes} bytes of weights) cannot be cut into ${o.shares.length} stages: ${choice.impossible}`, 'form a group with more free memory or fewer stages (epara placement shows the groups), or deploy the model whole', { nodes: g.order.length, stages: o.shares.length });
  }
  return { graph: g, stages: buildStages(g, choice.cuts), crossing: choice.crossing };
}

/** Splits ONNX model bytes into stages (each serialised, with its SHA-256). */
export async function partitionOnnx(bytes: Uint8Array, o: PartitionOptions): Promise<Partition> {
  const codec = await loadOnnxCodec();
  const { graph, stages, crossing } = partitionGraph(codec.decode(bytes), o);
  return {
    stages: stages.map((s) => {
      const b = codec.encode(s.model);
      return { index: s.index, count: s.count, inputNames: s.inputNames, outputNames: s.outputNames, bytes: b, sha256: createHash('sha256').update(b).digest('hex'), weightBytes: s.weightBytes, nodes: s.nodes };
    }),
    inputs: graph.inputs,
    outputs: graph.outputs,
    crossing,
    totalWeightBytes: graph.totalWeightBytes,
  };
}
