/**
 * ONNX models on the device: onnxruntime-node is imported lazily (boards that only run custom
 * handlers never pay for it), sessions are created from verified artifact files, warmed up, and
 * fed protocol tensors converted to and from ort tensors with their shapes and dtypes checked
 * against the model's own metadata first (a wrong input is `infer.bad_input`, never an ort crash).
 */
import type * as OrtModule from 'onnxruntime-node';
import type { Tensor, TensorDType } from '../protocol/index.js';
import { resolveNumbers } from '../options.js';
import { asEparaError, deployError, inferError } from './client-errors.js';
import type { ServiceRunner } from './runner.js';

type Ort = typeof OrtModule;

let ortPromise: Promise<Ort> | undefined;

/** Import onnxruntime-node on first use (module-private: the public types must not name onnxruntime-node, an optional peer dependency). */
function loadOrt(): Promise<Ort> {
  ortPromise ??= import('onnxruntime-node').catch((e: unknown) => {
    ortPromise = undefined;
    // An optional peer dependency (package.json): gateway apps that run no model never install it.
    const missing = (e as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND';
    throw asEparaError(e, (m) =>
      inferError('infer.runtime', {
        reason: missing ? 'onnxruntime-node is not installed (an optional peer dependency of epara)' : `onnxruntime-node could not be loaded: ${m}`,
        hint: missing
          ? 'in the device app: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.30 (the CPU binaries ship in the package), or serve this service with a custom handler'
          : 'reinstall onnxruntime-node@1.30 (ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.30), or serve this service with a custom handler',
        cause: e,
      }),
    );
  });
  return ortPromise;
}

/** Resolves when onnxruntime-node loads, else rejects with loadOrt's typed error (for a caller that needs it up front). */
export async function checkOnnxRuntime(): Promise<void> {
  await loadOrt();
}

const ELEM_BYTES: Record<TensorDType, number> = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, int64: 8, float32: 4, float64: 8 };

export interface IoMeta {
  name: string;
  dtype: TensorDType;
  /** Fixed sizes as numbers, symbolic dimensions as their name (e.g. 'N'). */
  shape: Array<number | string>;
}

export interface OnnxModelOptions {
  /** Threads for one session run; 1 keeps a shared 2-core board responsive. */
  intraOpThreads?: number;
}

const OPTION_SPECS = { intraOpThreads: { default: 1, min: 1, max: 64, integer: true } };

export class OnnxModel implements ServiceRunner {
  readonly inputs: IoMeta[];
  readonly outputs: IoMeta[];
  /** True when every input and output has a symbolic first dimension: requests can be stacked. */
  readonly batchable: boolean;

  private constructor(
    private readonly ort: Ort,
    private readonly session: OrtModule.InferenceSession,
  ) {
    this.inputs = session.inputMetadata.map((m) => toIoMeta(m, 'input'));
    this.outputs = session.outputMetadata.map((m) => toIoMeta(m, 'output'));
    this.batchable = [...this.inputs, ...this.outputs].every((m) => m.shape.length > 0 && typeof m.shape[0] === 'string');
  }

  /** Create a session from a model file or its bytes. Failure is `deploy.load_failed`. */
  static async load(model: string | Uint8Array, options: OnnxModelOptions = {}): Promise<OnnxModel> {
    const opts = resolveNumbers(OPTION_SPECS, options, 'onnx.');
    const ort = await loadOrt();
    let session: OrtModule.InferenceSession;
    try {
      const so: OrtModule.InferenceSession.SessionOptions = { intraOpNumThreads: opts.intraOpThreads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 4 };
      // ort's own log lines would duplicate the typed errors we raise; keep only fatal ones.
      session = typeof model === 'string' ? await ort.InferenceSession.create(model, so) : await ort.InferenceSession.create(model, so);
    } catch (e) {
      throw asEparaError(e, (m) => deployError('deploy.load_failed', { reason: `onnxruntime refused the model: ${m}`, hint: 'check the model opens in onnxruntime 1.30 (opset ≤ 21); the device keeps serving the previous version', cause: e }));
    }
    try {
      return new OnnxModel(ort, session);
    } catch (e) {
      await session.release().catch(() => undefined);
      throw e;
    }
  }

  /** One run with zero-filled inputs (symbolic dimensions set to 1): loads kernels and allocs now, not on the first request. */
  async warmUp(): Promise<void> {
    const inputs = this.inputs.map((m) => {
      const shape = m.shape.map((d) => (typeof d === 'number' ? d : 1));
      const n = shape.reduce((a, b) => a * b, 1);
      return { name: m.name, dtype: m.dtype, shape, data: new Uint8Array(n * ELEM_BYTES[m.dtype]) } satisfies Tensor;
    });
    try {
      await this.run(inputs);
    } catch (e) {
      throw asEparaError(e, (m) => deployError('deploy.warmup_failed', { reason: `warm-up run failed: ${m}`, hint: 'the model loads but cannot run on zero inputs; check its graph with onnxruntime', cause: e }));
    }
  }

  async run(inputs: Tensor[]): Promise<Tensor[]> {
    this.check(inputs, false);
    const feeds: Record<string, OrtModule.Tensor> = {};
    for (const t of inputs) feeds[t.name] = toOrtTensor(this.ort, t);
    let out: OrtModule.InferenceSession.ReturnType;
    try {
      out = await this.session.run(feeds);
    } catch (e) {
      throw asEparaError(e, (m) => inferError('infer.runtime', { reason: `onnxruntime run failed: ${m}`, hint: 'the inputs passed shape checks but the model could not run them; check value ranges (e.g. token ids < vocabulary size)', cause: e }));
    }
    return this.outputs.map((m) => fromOrtTensor(m.name, out[m.name]!));
  }

  /**
   * Several requests in one session run: inputs are concatenated along the first (batch)
   * dimension and outputs split back by each request's batch size.
   */
  async runBatch(batch: Tensor[][]): Promise<Tensor[][]> {
    if (!this.batchable || batch.length === 1) return Promise.all(batch.map((b) => this.run(b)));
    for (const inputs of batch) this.check(inputs, true);
    const sizes = batch.map((inputs) => inputs[0]!.shape[0]!);
    const stacked = this.inputs.map((m) => concat(m, batch.map((inputs) => inputs.find((t) => t.name === m.name)!)));
    const outs = await this.run(stacked);
    const total = sizes.reduce((a, b) => a + b, 0);
    for (const o of outs) {
      if (o.shape[0] !== total) throw inferError('infer.runtime', { reason: `output ${o.name} has batch ${o.shape[0]}, expected ${total}`, hint: 'this model does not keep the batch dimension; set batch 1 for it' });
    }
    const result: Tensor[][] = batch.map(() => []);
    for (const o of outs) {
      const rowBytes = o.data.length / total;
      let row = 0;
      sizes.forEach((n, i) => {
        result[i]!.push({ name: o.name, dtype: o.dtype, shape: [n, ...o.shape.slice(1)], data: o.data.slice(row * rowBytes, (row + n) * rowBytes) });
        row += n;
      });
    }
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  /** Inputs must be exactly the model's inputs, with matching dtype and fixed dimensions. */
  private check(inputs: Tensor[], sameTail: boolean): void {
    const seen = new Set<string>();
    for (const t of inputs) {
      const m = this.inputs.find((x) => x.name === t.name);
      if (!m) throw badInput(`unknown input ${JSON.stringify(t.name)}; the model takes ${this.inputs.map((x) => x.name).join(', ')}`, t.name);
      if (seen.has(t.name)) throw badInput(`input ${t.name} given twice`, t.name);
      seen.add(t.name);
      if (t.dtype !== m.dtype) throw badInput(`input ${t.name} is ${t.dtype}, the model wants ${m.dtype}`, t.name);
      if (t.shape.length !== m.shape.length) throw badInput(`input ${t.name} has rank ${t.shape.length}, the model wants [${m.shape.join(',')}]`, t.name);
      m.shape.forEach((d, i) => {
        if (typeof d === 'number' && t.shape[i] !== d) throw badInput(`input ${t.name} has shape [${t.shape.join(',')}], the model wants [${m.shape.join(',')}]`, t.name);
      });
      const n = t.shape.reduce((a, b) => a * b, 1);
      if (n * ELEM_BYTES[t.dtype] !== t.data.length) throw badInput(`input ${t.name} carries ${t.data.length} bytes for shape [${t.shape.join(',')}]`, t.name);
      if (sameTail && t.shape[0]! < 1) throw badInput(`input ${t.name} has an empty batch`, t.name);
    }
    const missing = this.inputs.filter((m) => !seen.has(m.name));
    if (missing.length) throw badInput(`missing input ${missing.map((m) => m.name).join(', ')}`, missing[0]!.name);
  }
}

function badInput(reason: string, field: string) {
  return inferError('infer.bad_input', { reason, hint: 'send tensors named, typed and shaped as the service model expects', field });
}

function toIoMeta(m: OrtModule.InferenceSession.ValueMetadata, what: string): IoMeta {
  if (!m.isTensor || !(m.type in ELEM_BYTES)) {
    throw deployError('deploy.load_failed', {
      reason: `model ${what} ${m.name} has type ${m.isTensor ? m.type : 'non-tensor'}, which the protocol cannot carry`,
      hint: `use ${Object.keys(ELEM_BYTES).join('/')} tensors for model inputs and outputs`,
      field: m.name,
    });
  }
  return { name: m.name, dtype: m.type as TensorDType, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d))) };
}

function concat(meta: IoMeta, parts: Tensor[]): Tensor {
  const shape = [parts.reduce((a, t) => a + t.shape[0]!, 0), ...parts[0]!.shape.slice(1)];
  for (const p of parts) {
    if (p.shape.slice(1).join(',') !== shape.slice(1).join(',')) throw badInput(`requests in one batch disagree on the shape of ${meta.name}`, meta.name);
  }
  const data = new Uint8Array(parts.reduce((a, t) => a + t.data.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { name: meta.name, dtype: meta.dtype, shape, data };
}

/** Protocol tensor (little-endian bytes) → ort tensor. Copies, so the result is aligned. */
function toOrtTensor(ort: Ort, t: Tensor): OrtModule.Tensor {
  const buf = t.data.slice().buffer;
  const typed = (() => {
    switch (t.dtype) {
      case 'uint8': return new Uint8Array(buf);
      case 'int8': return new Int8Array(buf);
      case 'uint16': return new Uint16Array(buf);
      case 'int16': return new Int16Array(buf);
      case 'uint32': return new Uint32Array(buf);
      case 'int32': return new Int32Array(buf);
      case 'int64': return new BigInt64Array(buf);
      case 'float32': return new Float32Array(buf);
      case 'float64': return new Float64Array(buf);
    }
  })();
  return new ort.Tensor(t.dtype, typed as never, t.shape);
}

/** ort tensor → protocol tensor. Hosts that run onnxruntime-node are little-endian (x86-64, arm64). */
function fromOrtTensor(name: string, t: OrtModule.Tensor): Tensor {
  const dtype = t.type === 'bool' ? 'uint8' : t.type;
  if (!(dtype in ELEM_BYTES)) {
    throw inferError('infer.runtime', { reason: `output ${name} has dtype ${t.type}, which the protocol cannot carry`, hint: 'cast the output to a supported dtype inside the model', field: name });
  }
  const v = t.data as ArrayBufferView;
  return { name, dtype: dtype as TensorDType, shape: [...t.dims], data: new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)) };
}
