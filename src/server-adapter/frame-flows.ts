/**
 * Frame flows at the gateway (`server.openFlow(service, { fps })`): the I/O half of
 * src/scheduler/frame-flow.ts. Frames pushed by the caller wait in the flow's controller; whenever
 * it has credit, the frames it releases are stacked into one batched INFER_REQUEST (each input
 * concatenated along its first dimension, carrying the flow's id) and routed like any request;
 * the batched outputs are split back per frame. Frames the controller drops are answered at once
 * as dropped, without reaching a device. No timers: the flow moves on pushes and answers.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { EparaError, InferError } from '../errors.js';
import { WIRE, type Tensor } from '../protocol/index.js';
import { FLOW_OPTIONS, FlowController, type DropReason, type FlowFrame, type FlowOptions, type FlowStats } from '../scheduler/frame-flow.js';
import type { CreditOptions } from '../scheduler/credits.js';
import type { InferResult } from './handlers/infer.js';

export type { FlowStats } from '../scheduler/frame-flow.js';

export interface OpenFlowOptions {
  /** Target frames per second. */
  fps: number;
  /** Budget of each frame from its push, ms (default one frame interval, 1000 / fps). */
  budgetMs?: number;
  /** Most frames in one batched request (default 8; 1 for a model without a batch dimension). */
  maxBatch?: number;
  /** Most frames waiting at the gateway (default 64). */
  maxPending?: number;
  /** Send every batch to this device (default: route each batch like any request). */
  deviceId?: string;
  credits?: Partial<CreditOptions>;
}

/** What became of one frame. */
export interface FrameOutcome {
  seq: number;
  /** 'ok' (answered by its deadline), 'late' (answered after it), 'dropped' (at the gateway, never sent), 'failed'. */
  status: 'ok' | 'late' | 'dropped' | 'failed';
  outputs?: Tensor[];
  deviceId?: string;
  /** Push to answer, ms. */
  latencyMs?: number;
  /** Frames in the batch that carried it. */
  batch?: number;
  dropReason?: DropReason;
  error?: EparaError;
}

export interface FrameFlowEvents {
  frame: [FrameOutcome];
}

type Infer = (inputs: Tensor[], opts: { deadlineMs: number; flowId: number; deviceId?: string }) => Promise<InferResult>;

interface Pending {
  inputs: Tensor[];
  rows: number;
  resolve: (o: FrameOutcome) => void;
}

export class FrameFlow extends EventEmitter<FrameFlowEvents> {
  private readonly ctl: FlowController<Pending>;
  private readonly inflight = new Set<Promise<void>>();
  private signature: string | undefined;
  private closed = false;

  constructor(
    readonly id: number,
    readonly service: string,
    private readonly opts: OpenFlowOptions,
    private readonly send: Infer,
    private readonly onClosed: () => void = () => undefined,
    private readonly clock: () => number = () => performance.now(),
  ) {
    super();
    const fps = opts?.fps;
    const o: Partial<FlowOptions> = { fps, maxBatch: opts.maxBatch, maxPending: opts.maxPending };
    // The default budget needs a valid fps: resolve fps first so a bad one is reported as such.
    const budget = opts.budgetMs ?? (typeof fps === 'number' && fps >= FLOW_OPTIONS.fps.min && fps <= FLOW_OPTIONS.fps.max ? Math.max(1, 1000 / fps) : undefined);
    this.ctl = new FlowController<Pending>({ ...o, budgetMs: budget }, opts.credits);
  }

  get fps(): number {
    return this.ctl.o.fps;
  }

  get budgetMs(): number {
    return this.ctl.o.budgetMs;
  }

  /** Push one frame (inputs with a first, batch dimension; usually 1 row). Resolves with its outcome, never rejects. */
  push(inputs: Tensor[]): Promise<FrameOutcome> {
    if (this.closed) return Promise.resolve({ seq: -1, status: 'failed', error: flowError('infer.bad_input', `flow ${this.id} (${this.service}) is closed`, 'open a new flow with server.openFlow') });
    const bad = this.check(inputs);
    if (bad) return Promise.resolve({ seq: -1, status: 'failed', error: bad });
    return new Promise((resolve) => {
      this.ctl.offer({ inputs, rows: inputs[0]!.shape[0]!, resolve }, this.clock());
      this.pump();
    });
  }

  /** Push `frames` frames at the flow's FPS (frame i's inputs from `inputs(i)`); resolves with the flow's stats once all are answered or dropped. */
  async run(frames: number, inputs: (i: number) => Tensor[]): Promise<FlowStats> {
    const interval = 1000 / this.fps;
    const t0 = this.clock();
    const outcomes: Promise<FrameOutcome>[] = [];
    for (let i = 0; i < frames && !this.closed; i++) {
      const wait = t0 + i * interval - this.clock();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      outcomes.push(this.push(inputs(i)));
    }
    await Promise.all(outcomes);
    return this.stats();
  }

  stats(): FlowStats {
    return this.ctl.stats(this.clock());
  }

  /** Stop taking frames; waits for the batches in flight, drops what still waits. */
  async close(): Promise<FlowStats> {
    this.closed = true;
    while (this.inflight.size) await Promise.all([...this.inflight]);
    this.ctl.prune(this.clock(), true);
    this.settleDropped();
    this.onClosed();
    return this.stats();
  }

  private pump(): void {
    for (;;) {
      const batch = this.ctl.take(this.clock());
      this.settleDropped();
      if (!batch) return;
      const p = this.dispatch(batch).finally(() => {
        this.inflight.delete(p);
        if (!this.closed || this.ctl.waiting) this.pump();
      });
      this.inflight.add(p);
    }
  }

  private settleDropped(): void {
    for (const { frame, reason } of this.ctl.takeDropped()) this.settle(frame, { seq: frame.seq, status: 'dropped', dropReason: reason });
  }

  private async dispatch(batch: FlowFrame<Pending>[]): Promise<void> {
    const sent = this.clock();
    const deadlineMs = Math.max(1, Math.ceil(Math.min(...batch.map((f) => f.deadlineMs)) - sent));
    try {
      const r = await this.send(stack(batch.map((f) => f.payload.inputs)), { deadlineMs, flowId: this.id, ...(this.opts.deviceId ? { deviceId: this.opts.deviceId } : {}) });
      const parts = split(r.outputs, batch.map((f) => f.payload.rows));
      const now = this.clock();
      this.ctl.complete(batch, sent, now, 'ok');
      batch.forEach((f, i) => this.settle(f, { seq: f.seq, status: now <= f.deadlineMs ? 'ok' : 'late', outputs: parts[i], deviceId: r.deviceId, latencyMs: now - f.arrivalMs, batch: batch.length }));
    } catch (err) {
      const now = this.clock();
      this.ctl.complete(batch, sent, now, 'lost');
      const error = err instanceof EparaError ? err : flowError('infer.runtime', `flow ${this.id} batch failed: ${String(err)}`, 'check the device log');
      for (const f of batch) this.settle(f, { seq: f.seq, status: 'failed', latencyMs: now - f.arrivalMs, batch: batch.length, error });
    }
  }

  private settle(f: FlowFrame<Pending>, o: FrameOutcome): void {
    f.payload.resolve(o);
    this.emit('frame', o);
  }

  /** Every frame of a flow must stack with the first: same input names, types and shapes past the first dimension. */
  private check(inputs: Tensor[]): InferError | undefined {
    if (!Array.isArray(inputs) || inputs.length === 0 || inputs.some((t) => !t || !Array.isArray(t.shape) || t.shape.length === 0 || !(t.shape[0]! >= 1))) {
      return flowError('infer.bad_input', 'a frame needs at least one tensor, each with a first (batch) dimension ≥ 1', 'push tensors shaped [1, …] as the model expects');
    }
    const rows = inputs[0]!.shape[0]!;
    if (inputs.some((t) => t.shape[0] !== rows)) return flowError('infer.bad_input', 'the tensors of one frame disagree on their first (batch) dimension', 'give every input of a frame the same number of rows');
    const sig = inputs.map((t) => `${t.name}:${t.dtype}:${t.shape.slice(1).join('x')}`).join(',');
    this.signature ??= sig;
    if (sig !== this.signature) return flowError('infer.bad_input', `frame inputs ${sig} do not match the flow's first frame (${this.signature})`, 'push frames of one shape into a flow, or open another flow');
    return undefined;
  }
}

function flowError(code: 'infer.bad_input' | 'infer.runtime', reason: string, hint: string): InferError {
  return new InferError({ code, wire: WIRE[code], reason, hint });
}

/** The frames' inputs stacked along the first dimension, input by input (one frame: unchanged). */
export function stack(frames: Tensor[][]): Tensor[] {
  if (frames.length === 1) return frames[0]!;
  return frames[0]!.map((t, k) => {
    const parts = frames.map((f) => f[k]!);
    const data = new Uint8Array(parts.reduce((a, p) => a + p.data.length, 0));
    let at = 0;
    for (const p of parts) {
      data.set(p.data, at);
      at += p.data.length;
    }
    return { name: t.name, dtype: t.dtype, shape: [parts.reduce((a, p) => a + p.shape[0]!, 0), ...t.shape.slice(1)], data };
  });
}

/** Batched outputs split back into per-frame outputs by the frames' row counts. */
export function split(outputs: Tensor[], rows: number[]): Tensor[][] {
  if (rows.length === 1) return [outputs];
  const total = rows.reduce((a, b) => a + b, 0);
  for (const o of outputs) {
    if (o.shape[0] !== total) {
      throw flowError('infer.runtime', `output ${o.name} has ${o.shape[0]} rows for a batch of ${total} frames`, 'this model does not keep the batch dimension: open the flow with maxBatch 1');
    }
  }
  const out: Tensor[][] = rows.map(() => []);
  for (const o of outputs) {
    const rowBytes = o.data.length / total;
    let row = 0;
    rows.forEach((n, i) => {
      out[i]!.push({ name: o.name, dtype: o.dtype, shape: [n, ...o.shape.slice(1)], data: o.data.slice(row * rowBytes, (row + n) * rowBytes) });
      row += n;
    });
  }
  return out;
}

/**
 * The gateway's open flows: each gets a flow id (u32 on the wire, wrapping, never 0) and leaves
 * the set when it closes; the server closes what is still open when it shuts down.
 */
export class OpenFlows {
  private readonly open = new Set<FrameFlow>();
  private nextId = 1;

  constructor(private readonly infer: (service: string, ...args: Parameters<Infer>) => Promise<InferResult>) {}

  add(service: string, opts: OpenFlowOptions): FrameFlow {
    const id = this.nextId;
    this.nextId = (this.nextId % 0xffffffff) + 1;
    const flow = new FrameFlow(id, service, opts, (inputs, o) => this.infer(service, inputs, o), () => this.open.delete(flow));
    this.open.add(flow);
    return flow;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((f) => f.close()));
  }
}
