/**
 * Forms a pipeline: cuts the service's model with the partitioner (src/partition) for a device
 * group in stage order and the shares the allocator gave each (splitModel), deploys each stage as
 * an ordinary artifact under its own service name (SHA-256 checked, resumable, rolled back on a
 * failed load, like any deployment), then places each stage with a PLACEMENT op that carries the
 * stage (protocol version 2 `pipeline`: index, count, input and output tensor names), and records
 * the group. Stages of an earlier group on devices that left it are undeployed.
 */
import { readFileSync } from 'node:fs';
import type { DeploymentRecord, TaskCategory } from '../device-mgmt/registry/store.js';
import { DeployError } from '../errors.js';
import { partitionOnnx } from '../partition/index.js';
import type { PlacementOp } from '../protocol/index.js';
import type { DeployAnswer, DeployOptions } from './deployments.js';
import { stageServiceName, type PipelineGroup, type PipelineGroups } from './pipeline-groups.js';

export interface PipelineDeployHost {
  readonly pipelines: PipelineGroups;
  /** Where the content-addressed store keeps an artifact. */
  artifactPath(sha256: string): string;
  deploy(opts: DeployOptions): Promise<DeployAnswer[]>;
  undeploy(service: string, to: string[]): Promise<unknown>;
  sendPlacement(deviceId: string, ops: PlacementOp[]): Promise<Array<{ service: string; code: number }>>;
  /** The negotiated protocol version of the device's session, or undefined when it is not connected. */
  protocolVersion(deviceId: string): number | undefined;
  /** HELLO caps.memoryKiB of the device. */
  memoryKiB(deviceId: string): number | undefined;
  resultTimeoutMs: number;
}

export interface FormPipelineOptions {
  service: string;
  version: string;
  category: TaskCategory;
  /** The whole model: its digest in the server's artifact store. */
  sha256: string;
  /** The group, in stage order. */
  devices: string[];
  /** Share of the model each stage holds (the allocator's splitModel fractions); default equal. */
  shares?: number[];
}

/** The deployment of the whole model a pipeline is cut from: the latest ONNX one of the service (any state: it may have fit nowhere). */
export function sourceOf(records: DeploymentRecord[], version?: string): DeploymentRecord | undefined {
  return records.filter((r) => r.kind === 'onnx' && !r.service.includes('#') && (!version || r.version === version)).sort((a, b) => a.id - b.id).at(-1);
}

export async function formPipeline(h: PipelineDeployHost, o: FormPipelineOptions): Promise<PipelineGroup> {
  const k = o.devices.length;
  if (k < 2 || new Set(o.devices).size !== k) {
    throw new DeployError({ code: 'deploy.pipeline_group', reason: `a pipeline needs two or more distinct devices, got ${JSON.stringify(o.devices)}`, hint: 'name the group in stage order, e.g. to: ["pi-1", "jetson-1"]', field: 'to' });
  }
  for (const d of o.devices) {
    const v = h.protocolVersion(d);
    if (v === undefined) throw new DeployError({ code: 'deploy.pipeline_group', reason: `device ${d} is not connected`, hint: 'form the pipeline from connected devices (epara devices)', field: 'to' });
    if (v < 2) throw new DeployError({ code: 'deploy.pipeline_group', reason: `device ${d} speaks protocol version 1, which has no pipeline stages (SPEC §8)`, hint: 'upgrade its firmware / SDK to protocol version 2, or leave it out of the group', field: 'to' });
  }
  const shares = o.shares ?? o.devices.map(() => 1 / k);
  const bytes = new Uint8Array(readFileSync(h.artifactPath(o.sha256)));
  const capBytes = o.devices.map((d) => {
    const kib = h.memoryKiB(d);
    return kib === undefined ? undefined : kib * 1024;
  });
  const split = await partitionOnnx(bytes, { shares, capBytes });
  const old = h.pipelines.get(o.service);
  // Each stage to its device, all at once (they are different devices).
  const recs = await Promise.all(
    split.stages.map((s, i) =>
      h.deploy({
        artifact: s.bytes,
        service: stageServiceName(o.service, i),
        version: o.version,
        kind: 'onnx',
        category: o.category,
        to: [o.devices[i]!],
        timeoutMs: h.resultTimeoutMs,
      }),
    ),
  );
  recs.forEach((r, i) => {
    if (r[0]?.state !== 'ready') {
      throw new DeployError({ code: r[0]?.errorCode ?? 'deploy.load_failed', reason: `stage ${i} of ${o.service} on ${o.devices[i]} ended ${r[0]?.state ?? 'missing'}`, hint: 'see the deployment record (epara deployments) and the device log', details: { service: o.service, stage: i } });
    }
  });
  const placed = await Promise.all(
    split.stages.map((s, i) =>
      h.sendPlacement(o.devices[i]!, [{ action: 'load', service: stageServiceName(o.service, i), version: o.version, pipeline: { index: i, count: k, inputNames: s.inputNames, outputNames: s.outputNames } }]),
    ),
  );
  placed.forEach((r, i) => {
    const code = r[0]?.code ?? -1;
    if (code !== 0) throw new DeployError({ code: 'deploy.pipeline_refused', reason: `device ${o.devices[i]} refused stage ${i} of ${o.service} (PLACEMENT_ACK code ${code})`, hint: 'see the device log; 603 means the stage on the device is not the one cut for it', details: { code } });
  });
  const group: PipelineGroup = {
    service: o.service,
    version: o.version,
    stages: split.stages.map((s, i) => ({ index: i, deviceId: o.devices[i]!, service: stageServiceName(o.service, i), inputNames: s.inputNames, outputNames: s.outputNames, sha256: s.sha256, size: s.bytes.length, share: shares[i]! })),
    inputs: split.inputs,
    outputs: split.outputs,
    sha256: o.sha256,
    formedAt: Date.now(),
  };
  h.pipelines.set(group);
  // Stages of the old group that no device of the new one took over: undeploy (best effort).
  for (const s of old?.stages ?? []) {
    if (group.stages.some((n) => n.deviceId === s.deviceId && n.service === s.service)) continue;
    await h.undeploy(s.service, [s.deviceId]).catch(() => undefined);
  }
  return group;
}
