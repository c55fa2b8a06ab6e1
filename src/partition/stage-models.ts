/**
 * One ONNX model per stage, from the analysed graph and the chosen cuts: the stage's nodes (in
 * the whole model's order), copies of the constants and initializers they read, its inputs (the
 * model's inputs and earlier stages' outputs it reads) and its outputs (what later stages read,
 * and the model's outputs it produces), each declared with its element type and shape. Opsets,
 * IR version, local functions and metadata are the whole model's. Pure.
 */
import type { AnalysedGraph, GraphNode } from './onnx-graph.js';
import { partitionError } from './partition-errors.js';
import type { TensorInfo } from './tensor-inference.js';
import type { OnnxModel, OnnxValueInfo } from './onnx-shapes.js';

export interface StageGraph {
  index: number;
  count: number;
  inputNames: string[];
  outputNames: string[];
  model: OnnxModel;
  weightBytes: number;
  nodes: number;
}

function valueInfo(name: string, g: AnalysedGraph, info: TensorInfo | undefined): OnnxValueInfo {
  const declared = g.declared.get(name);
  if (declared?.type?.tensorType?.elemType) return declared;
  if (info?.elemType === undefined) {
    // chooseCuts never cuts an untyped tensor; reaching this is a partitioner bug, said plainly.
    throw partitionError('partition.cannot_cut', `tensor ${name} crosses a cut but its element type is unknown`, 'add value_info to the model (onnx.shape_inference.infer_shapes) and partition again');
  }
  const dims = info.shape?.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {}));
  return { name, type: { tensorType: { elemType: info.elemType, ...(dims ? { shape: { dim: dims } } : {}) } } };
}

export function buildStages(g: AnalysedGraph, cuts: readonly number[]): StageGraph[] {
  const bounds = [0, ...cuts, g.order.length];
  const k = bounds.length - 1;
  const position = new Map<string, number>();
  g.order.forEach((n, p) => n.writes.forEach((w) => position.set(w, p)));
  const lastRead = new Map<string, number>();
  g.order.forEach((n, p) => n.reads.forEach((r) => lastRead.set(r, Math.max(lastRead.get(r) ?? -1, p))));
  const graphOutputs = new Set(g.outputs);
  const inputOrder = new Map(g.inputs.map((n, i) => [n, i]));
  const initializerInputs = new Set((g.graph.input ?? []).map((v) => v.name ?? '').filter((n) => g.initializers.has(n)));
  const stages: StageGraph[] = [];
  for (let j = 0; j < k; j++) {
    const nodes: GraphNode[] = g.order.slice(bounds[j], bounds[j + 1]);
    const end = bounds[j + 1]!;
    const written = new Set(nodes.flatMap((n) => n.writes));
    const reads = [...new Set(nodes.flatMap((n) => n.reads))];
    const inputs = reads.filter((r) => !written.has(r) && !g.initializers.has(r) && !g.constants.has(r));
    inputs.sort((a, b) => (inputOrder.get(a) ?? 1e9) - (inputOrder.get(b) ?? 1e9) || (position.get(a) ?? -1) - (position.get(b) ?? -1));
    const outputs: string[] = [];
    for (const n of nodes) for (const w of n.writes) if (graphOutputs.has(w) || (lastRead.get(w) ?? -1) >= end) outputs.push(w);
    const constants = [...new Set(reads.filter((r) => g.constants.has(r)).map((r) => g.constants.get(r)!))];
    const inits = reads.filter((r) => g.initializers.has(r)).map((r) => g.initializers.get(r)!);
    const inside = new Set([...written, ...reads]);
    const graph = {
      name: `${g.graph.name || 'graph'}_stage${j}of${k}`,
      node: [...constants, ...nodes.map((n) => n.node)],
      initializer: inits,
      input: [...inputs.map((n) => valueInfo(n, g, g.info.get(n))), ...[...initializerInputs].filter((n) => inits.some((t) => t.name === n)).map((n) => g.declared.get(n)!)],
      output: outputs.map((n) => valueInfo(n, g, g.info.get(n))),
      valueInfo: (g.graph.valueInfo ?? []).filter((v) => v.name && inside.has(v.name) && !inputs.includes(v.name) && !outputs.includes(v.name)),
      ...(g.graph.docString ? { docString: g.graph.docString } : {}),
    };
    const m = g.model;
    const model: OnnxModel = {
      irVersion: m.irVersion,
      opsetImport: m.opsetImport,
      producerName: m.producerName,
      producerVersion: m.producerVersion,
      domain: m.domain,
      modelVersion: m.modelVersion,
      docString: `stage ${j} of ${k} of ${m.graph?.name || 'the model'} (cut by src/partition of epara)`,
      graph,
      metadataProps: m.metadataProps,
      functions: m.functions,
    };
    stages.push({ index: j, count: k, inputNames: inputs, outputNames: outputs, model, weightBytes: nodes.reduce((s, n) => s + n.weightBytes, 0), nodes: nodes.length });
  }
  return stages;
}
