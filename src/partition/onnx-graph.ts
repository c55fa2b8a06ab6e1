/**
 * An ONNX graph as the partitioner sees it: nodes in a topological order, the tensors each reads
 * and writes (names a subgraph of If / Loop / Scan reads from outside count as reads of the node),
 * the weight bytes each brings, and the element type and shape of every tensor (./tensor-inference.ts).
 * Constant nodes are kept apart: each stage that reads one gets its own copy, so a constant never
 * crosses a cut. Pure.
 */
import { partitionError } from './partition-errors.js';
import { inferNode, type TensorInfo } from './tensor-inference.js';
import { ELEM_BYTES, toNum, type OnnxGraphProto, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-shapes.js';

export interface GraphNode {
  /** Position in the model's node list. */
  index: number;
  node: OnnxNode;
  /** Tensors read (empty optional inputs left out, subgraph reads added). */
  reads: string[];
  writes: string[];
  /** Bytes of initializers this node is the first (in `order`) to read. */
  weightBytes: number;
}

export interface AnalysedGraph {
  model: OnnxModel;
  graph: OnnxGraphProto;
  /** Non-constant nodes, topologically ordered (the model's own order where it is one). */
  order: GraphNode[];
  /** Constant nodes by the tensor they write. */
  constants: Map<string, OnnxNode>;
  initializers: Map<string, OnnxTensor>;
  initializerBytes: Map<string, number>;
  /** Graph inputs that are not initializers, in the model's order. */
  inputs: string[];
  outputs: string[];
  info: Map<string, TensorInfo>;
  /** Declared value infos (graph inputs, outputs, value_info) by name. */
  declared: Map<string, OnnxValueInfo>;
  totalWeightBytes: number;
}

export function tensorProtoBytes(t: OnnxTensor): number {
  if (t.rawData && t.rawData.length) return t.rawData.length;
  const n = (t.floatData?.length ?? 0) + (t.int32Data?.length ?? 0) + (t.int64Data?.length ?? 0) + (t.doubleData?.length ?? 0) + (t.uint64Data?.length ?? 0);
  return n * (ELEM_BYTES[t.dataType ?? 1] ?? 4) + (t.stringData?.reduce((s, b) => s + b.length, 0) ?? 0);
}

function infoOf(v: OnnxValueInfo): TensorInfo {
  const tt = v.type?.tensorType;
  if (!tt) return {};
  const dims = tt.shape?.dim;
  return {
    elemType: tt.elemType ?? undefined,
    shape: dims ? dims.map((d) => (d.dimValue !== undefined && d.dimValue !== null && toNum(d.dimValue) > 0 ? toNum(d.dimValue) : d.dimParam ? d.dimParam : undefined)) : undefined,
  };
}

/** Names a subgraph reads from its enclosing scopes. */
function outerReads(g: OnnxGraphProto, into: Set<string>): void {
  const defined = new Set<string>([...(g.input ?? []).map((v) => v.name ?? ''), ...(g.initializer ?? []).map((t) => t.name ?? '')]);
  for (const n of g.node ?? []) {
    for (const i of n.input ?? []) if (i && !defined.has(i)) into.add(i);
    for (const a of n.attribute ?? []) for (const sg of [a.g, ...(a.graphs ?? [])]) if (sg) {
      const inner = new Set<string>();
      outerReads(sg, inner);
      for (const i of inner) if (!defined.has(i)) into.add(i);
    }
    for (const o of n.output ?? []) if (o) defined.add(o);
  }
}

export function analyseGraph(model: OnnxModel): AnalysedGraph {
  const graph = model.graph;
  if (!graph || !graph.node?.length) throw partitionError('partition.bad_model', 'the model has no graph or no nodes', 'check the file opens in onnxruntime (it must be an ONNX ModelProto with a graph)');
  const initializers = new Map<string, OnnxTensor>();
  const initializerBytes = new Map<string, number>();
  for (const t of graph.initializer ?? []) {
    initializers.set(t.name ?? '', t);
    initializerBytes.set(t.name ?? '', tensorProtoBytes(t));
  }
  if (graph.sparseInitializer?.length) throw partitionError('partition.bad_model', 'the model has sparse initializers, which the partitioner does not copy into stages', 'densify them first (onnx.numpy_helper), or deploy the model whole');
  const declared = new Map<string, OnnxValueInfo>();
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) if (v.name) declared.set(v.name, v);
  const inputs = (graph.input ?? []).map((v) => v.name ?? '').filter((n) => n && !initializers.has(n));
  const outputs = (graph.output ?? []).map((v) => v.name ?? '').filter(Boolean);
  const constants = new Map<string, OnnxNode>();
  const rest: GraphNode[] = [];
  graph.node.forEach((node, index) => {
    const reads = new Set((node.input ?? []).filter(Boolean));
    for (const a of node.attribute ?? []) for (const sg of [a.g, ...(a.graphs ?? [])]) if (sg) outerReads(sg, reads);
    const writes = (node.output ?? []).filter(Boolean);
    if (node.opType === 'Constant' && reads.size === 0 && (!node.domain || node.domain === 'ai.onnx')) for (const w of writes) constants.set(w, node);
    else rest.push({ index, node, reads: [...reads], writes, weightBytes: 0 });
  });

  // Kahn's algorithm, smallest model position first: the model's order whenever it already is topological.
  const available = new Set<string>([...inputs, ...initializers.keys(), ...constants.keys()]);
  const producer = new Map<string, GraphNode>();
  for (const n of rest) for (const w of n.writes) {
    if (producer.has(w) || available.has(w)) throw partitionError('partition.bad_model', `tensor ${w} is written twice`, 'an ONNX graph is in SSA form: give each node output its own name');
    producer.set(w, n);
  }
  const waiting = new Map<GraphNode, number>();
  const consumers = new Map<GraphNode, GraphNode[]>();
  for (const n of rest) {
    let deps = 0;
    for (const r of n.reads) {
      const p = producer.get(r);
      if (p) {
        deps++;
        consumers.set(p, [...(consumers.get(p) ?? []), n]);
      } else if (!available.has(r)) {
        throw partitionError('partition.bad_model', `node ${n.node.name || n.node.opType} reads ${r}, which no node, input or initializer provides`, 'check the model opens in onnxruntime');
      }
    }
    waiting.set(n, deps);
  }
  const ready = rest.filter((n) => waiting.get(n) === 0);
  const order: GraphNode[] = [];
  while (ready.length) {
    ready.sort((x, y) => x.index - y.index);
    const n = ready.shift()!;
    order.push(n);
    for (const c of consumers.get(n) ?? []) {
      const left = waiting.get(c)! - 1;
      waiting.set(c, left);
      if (left === 0) ready.push(c);
    }
  }
  if (order.length !== rest.length) throw partitionError('partition.bad_model', 'the graph has a cycle', 'an ONNX graph must be acyclic; check the model opens in onnxruntime');
  for (const o of outputs) if (!producer.has(o) && !available.has(o)) throw partitionError('partition.bad_model', `graph output ${o} is produced by no node`, 'check the model opens in onnxruntime');

  // Weights: each initializer counts at its first reader.
  const counted = new Set<string>();
  let totalWeightBytes = 0;
  for (const n of order) {
    for (const r of n.reads) if (initializers.has(r) && !counted.has(r)) {
      counted.add(r);
      n.weightBytes += initializerBytes.get(r)!;
    }
    for (const c of n.reads) if (constants.has(c) && !counted.has(c)) {
      counted.add(c);
      const t = constants.get(c)!.attribute?.find((a) => a.name === 'value')?.t;
      if (t) n.weightBytes += tensorProtoBytes(t);
    }
    totalWeightBytes += n.weightBytes;
  }

  // Types and shapes: declared first, inferred for the rest in order.
  const info = new Map<string, TensorInfo>();
  for (const [name, v] of declared) info.set(name, infoOf(v));
  for (const [name, t] of initializers) if (!info.has(name)) info.set(name, { elemType: t.dataType ?? undefined, shape: (t.dims ?? []).map(toNum) });
  const constantTensor = (name: string): OnnxTensor | undefined => initializers.get(name) ?? constants.get(name)?.attribute?.find((a) => a.name === 'value')?.t ?? undefined;
  for (const [name] of constants) {
    const t = constantTensor(name);
    if (t && !info.has(name)) info.set(name, { elemType: t.dataType ?? undefined, shape: (t.dims ?? []).map(toNum) });
  }
  for (const n of order) {
    const raw = n.node.input ?? [];
    const got = inferNode(n.node, (i) => (raw[i] ? info.get(raw[i]!) : undefined), constantTensor);
    n.writes.forEach((w) => {
      const pos = (n.node.output ?? []).indexOf(w);
      const inferred = got[pos];
      const known = info.get(w);
      if (!known || known.elemType === undefined) info.set(w, { ...inferred, ...(known?.shape ? { shape: known.shape } : {}) });
      else if (!known.shape && inferred?.shape) info.set(w, { ...known, shape: inferred.shape });
    });
  }
  return { model, graph, order, constants, initializers, initializerBytes, inputs, outputs, info, declared, totalWeightBytes };
}
