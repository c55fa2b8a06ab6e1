/**
 * What serves a service on a device: an ONNX session (onnx-runtime.ts) or a custom handler
 * registered by the application (an FPGA proxy, a sensor pipeline, an emulator's behavioural model).
 */
import type { Tensor } from '../protocol/index.js';

export interface InferContext {
  service: string;
  requestId: number;
  /** Aborted when the request is cancelled or its deadline passes: long handlers should stop. */
  signal: AbortSignal;
  /** Requests in the run this call belongs to (1 unless the service batches). */
  batch: number;
  flowId?: number;
}

export interface ServiceRunner {
  run(inputs: Tensor[], ctx?: InferContext): Promise<Tensor[]>;
  /** Serve several requests in one go; when absent, a batch is served request by request. */
  runBatch?(batch: Tensor[][], ctx?: InferContext): Promise<Tensor[][]>;
  warmUp?(): Promise<void>;
  release?(): Promise<void>;
}

/** A custom handler: inputs in, outputs out. Throw an EparaError (e.g. infer.bad_input) to fail a request. */
export type InferHandler = (inputs: Tensor[], ctx: InferContext) => Promise<Tensor[]> | Tensor[];

export interface HandlerRunnerOptions {
  /** Called once per batch instead of once per request, when given. */
  batchHandler?: (batch: Tensor[][], ctx: InferContext) => Promise<Tensor[][]> | Tensor[][];
  warmUp?: () => Promise<void> | void;
}

export function handlerRunner(handler: InferHandler, opts: HandlerRunnerOptions = {}): ServiceRunner {
  const runner: ServiceRunner = {
    run: async (inputs, ctx) => handler(inputs, ctx ?? { service: '', requestId: 0, signal: new AbortController().signal, batch: 1 }),
  };
  if (opts.batchHandler) {
    const bh = opts.batchHandler;
    runner.runBatch = async (batch, ctx) => bh(batch, ctx ?? { service: '', requestId: 0, signal: new AbortController().signal, batch: batch.length });
  }
  if (opts.warmUp) {
    const w = opts.warmUp;
    runner.warmUp = async () => {
      await w();
    };
  }
  return runner;
}
