/**
 * What EparaServer holds for model parallelism: the pipeline groups, forming one (deployPipeline,
 * or the scheduler's placement round when the allocator formed a multi-device unit), and routing a
 * request through one. Glue between the server's parts and pipeline-deploy.ts / pipeline-infer.ts.
 */
import type { ArtifactStore } from '../device-mgmt/deployment/artifact-store.js';
import { isServing } from '../device-mgmt/session.js';
import type { TaskCategory } from '../device-mgmt/registry/store.js';
import type { PlacementOp, Tensor } from '../protocol/index.js';
import { storeArtifact, type ArtifactSource } from './deploy-artifact.js';
import type { DeployAnswer, DeployOptions } from './deployments.js';
import type { InferResult } from './handlers/infer.js';
import type { AuditFn, LiveSessions } from './live-sessions.js';
import { formPipeline, type FormPipelineOptions } from './pipeline-deploy.js';
import { PipelineGroups, type PipelineGroup } from './pipeline-groups.js';
import { runPipeline, type PipelineResult } from './pipeline-infer.js';

export interface DeployPipelineOptions {
  service: string;
  version: string;
  /** The whole model: bytes, a path, or the digest of an uploaded artifact. */
  artifact: ArtifactSource;
  category?: TaskCategory;
  /** The device group, in stage order. */
  to: string[];
  /** Share of the model per stage (the allocator's splitModel fractions); default equal. */
  shares?: number[];
}

export interface PipelineHost {
  readonly live: LiveSessions;
  readonly audit: AuditFn;
  readonly resultTimeoutMs: number;
  artifacts(): ArtifactStore;
  deploy(opts: DeployOptions): Promise<DeployAnswer[]>;
  undeploy(service: string, to: string[]): Promise<unknown>;
  sendPlacement(deviceId: string, ops: PlacementOp[]): Promise<Array<{ service: string; code: number }>>;
  /** One inference pinned to a device. */
  inferOn(service: string, inputs: Tensor[], opts: { deadlineMs: number; deviceId: string }): Promise<InferResult>;
}

export class PipelineService {
  readonly groups = new PipelineGroups();

  constructor(private readonly h: PipelineHost) {}

  private connected(id: string): boolean {
    const l = this.h.live.get(id);
    return l?.conn?.isReady === true && isServing(l.session.state);
  }

  async deploy(o: DeployPipelineOptions): Promise<PipelineGroup> {
    const stored = storeArtifact(this.h.artifacts(), o.artifact);
    const { sha256 } = stored instanceof Promise ? await stored : stored;
    return this.form({ service: o.service, version: o.version, category: o.category ?? 'latency-multi', sha256, devices: o.to, ...(o.shares ? { shares: o.shares } : {}) });
  }

  async form(o: FormPipelineOptions): Promise<PipelineGroup> {
    const h = this.h;
    const g = await formPipeline(
      {
        pipelines: this.groups,
        artifactPath: (sha) => h.artifacts().pathOf(sha),
        deploy: (d) => h.deploy(d),
        undeploy: (s, to) => h.undeploy(s, to),
        sendPlacement: (id, ops) => h.sendPlacement(id, ops),
        protocolVersion: (id) => (this.connected(id) ? h.live.get(id)?.conn?.ready?.version : undefined),
        memoryKiB: (id) => h.live.get(id)?.hello.caps.memoryKiB,
        resultTimeoutMs: h.resultTimeoutMs,
      },
      o,
    );
    h.audit({ event: 'pipeline.formed', detail: `${PipelineGroups.describe(g)} (${g.stages.map((s) => `${s.size} bytes`).join(', ')})` });
    return g;
  }

  /** The pipeline a request for `service` goes through, when it has one. */
  for(service: string): PipelineGroup | undefined {
    return this.groups.get(service);
  }

  infer(g: PipelineGroup, inputs: Tensor[], deadlineMs: number): Promise<PipelineResult> {
    return runPipeline(
      {
        infer: (s, inp, o) => this.h.inferOn(s, inp, o),
        connected: (id) => this.connected(id),
        lost: (group, id) => {
          if (group.lost) return;
          group.lost = { deviceId: id, at: Date.now() };
          this.h.audit({ event: 'pipeline.lost', deviceId: id, detail: `${group.service}: stage device ${id} lost; the next placement round forms the group again` });
        },
      },
      g,
      inputs,
      deadlineMs,
    );
  }
}
