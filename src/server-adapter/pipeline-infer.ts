/**
 * One request through a pipeline: stage by stage, one INFER_REQUEST per stage to its device with the tensors it reads
 * (the model's inputs and what earlier stages produced, SPEC §5.10), and the model's outputs are
 * gathered in the model's order. Requests are independent calls, so consecutive requests overlap:
 * while stage 1 runs request n, stage 0 already runs request n+1, and throughput is set by the
 * slowest stage, not by the sum. A stage device that is gone (or whose link drops mid-request)
 * fails the request with infer.stage_lost and marks the group lost, so the next placement round
 * forms it again.
 */
import { EparaError, InferError } from '../errors.js';
import type { Tensor } from '../protocol/index.js';
import type { InferResult } from './handlers/infer.js';
import type { PipelineGroup } from './pipeline-groups.js';

export interface PipelineInferHost {
  /** One inference on one device (the server's own routing path, pinned to the device). */
  infer(service: string, inputs: Tensor[], opts: { deadlineMs: number; deviceId: string }): Promise<InferResult>;
  /** Whether the device has a serving session now. */
  connected(deviceId: string): boolean;
  lost(group: PipelineGroup, deviceId: string): void;
}

export interface PipelineResult extends InferResult {
  /** Per stage: the device and its compute time. */
  stages: Array<{ index: number; deviceId: string; computeUs?: number; queueUs?: number }>;
}

/** Errors that mean the stage's device is not there to answer (as opposed to a bad input). */
const GONE = new Set(['infer.no_device', 'link.closed', 'link.timeout', 'infer.unknown_service']);

function stageLost(g: PipelineGroup, index: number, deviceId: string, why: string, cause?: unknown): InferError {
  return new InferError({
    code: 'infer.stage_lost',
    reason: `stage ${index} of the ${g.service} pipeline (device ${deviceId}) ${why}`,
    hint: 'the next placement round forms the group again (epara placement shows it); retry then',
    details: { service: g.service, stage: index, deviceId, stages: g.stages.length },
    ...(cause !== undefined ? { cause } : {}),
  });
}

export async function runPipeline(h: PipelineInferHost, g: PipelineGroup, inputs: Tensor[], deadlineMs: number): Promise<PipelineResult> {
  if (g.lost) throw stageLost(g, g.stages.find((s) => s.deviceId === g.lost!.deviceId)?.index ?? 0, g.lost.deviceId, 'was lost; the group has not been formed again yet');
  const t0 = performance.now();
  const have = new Map(inputs.map((t) => [t.name, t]));
  for (const name of g.inputs) {
    if (!have.has(name)) {
      throw new InferError({ code: 'infer.bad_input', reason: `${g.service} reads input ${name}, which the request does not carry`, hint: `send tensors named ${g.inputs.join(', ')}`, field: 'inputs', details: { service: g.service } });
    }
  }
  const stages: PipelineResult['stages'] = [];
  let computeUs = 0;
  for (const s of g.stages) {
    if (!h.connected(s.deviceId)) {
      h.lost(g, s.deviceId);
      throw stageLost(g, s.index, s.deviceId, 'is not connected');
    }
    const left = Math.max(1, Math.floor(deadlineMs - (performance.now() - t0)));
    const feed = s.inputNames.map((n) => have.get(n)!);
    let r: InferResult;
    try {
      r = await h.infer(s.service, feed, { deadlineMs: left, deviceId: s.deviceId });
    } catch (e) {
      if (e instanceof EparaError && GONE.has(e.code) && !h.connected(s.deviceId)) {
        h.lost(g, s.deviceId);
        throw stageLost(g, s.index, s.deviceId, `went away during the request (${e.code})`, e);
      }
      throw e;
    }
    for (const n of s.outputNames) {
      const t = r.outputs.find((o) => o.name === n);
      if (!t) {
        throw new InferError({
          code: 'infer.stage_mismatch',
          reason: `stage ${s.index} of the ${g.service} pipeline (device ${s.deviceId}) answered without tensor ${n}, which its stage must produce`,
          hint: 'the device runs another artifact than the stage cut for it: deploy the pipeline again (epara placement shows the group)',
          details: { service: g.service, stage: s.index, deviceId: s.deviceId, got: r.outputs.map((o) => o.name) },
        });
      }
      have.set(n, t);
    }
    stages.push({ index: s.index, deviceId: s.deviceId, ...(r.computeUs !== undefined ? { computeUs: r.computeUs } : {}), ...(r.queueUs !== undefined ? { queueUs: r.queueUs } : {}) });
    computeUs += r.computeUs ?? 0;
  }
  return { outputs: g.outputs.map((n) => have.get(n)!), deviceId: g.stages[g.stages.length - 1]!.deviceId, computeUs, stages };
}
