/**
 * The pipelines the server runs: per service, the device group holding its stages in order
 * (model parallelism, issue 17 §3). A group is formed by pipeline-deploy.ts, used by
 * pipeline-infer.ts, and marked lost when one of its devices goes away; the next placement round
 * (or deployPipeline) forms it again. One pipeline per service.
 */
export interface PipelineStageSlot {
  index: number;
  deviceId: string;
  /** The stage's own service name on the device (`stageServiceName`). */
  service: string;
  inputNames: string[];
  outputNames: string[];
  sha256: string;
  size: number;
  /** Share of the model this stage holds (what it was cut for). */
  share: number;
}

export interface PipelineGroup {
  service: string;
  version: string;
  stages: PipelineStageSlot[];
  /** The whole model's inputs and outputs, in its order. */
  inputs: string[];
  outputs: string[];
  /** The whole model's artifact. */
  sha256: string;
  formedAt: number;
  /** Set when a stage device was lost: requests fail with infer.stage_lost until the group is formed again. */
  lost?: { deviceId: string; at: number };
}

/** `<service>#<index>`: the name a stage is deployed and inferred under (SPEC §5.10). */
export function stageServiceName(service: string, index: number): string {
  return `${service}#${index}`;
}

export class PipelineGroups {
  private readonly groups = new Map<string, PipelineGroup>();

  get(service: string): PipelineGroup | undefined {
    return this.groups.get(service);
  }

  set(g: PipelineGroup): void {
    this.groups.set(g.service, g);
  }

  delete(service: string): void {
    this.groups.delete(service);
  }

  all(): PipelineGroup[] {
    return [...this.groups.values()];
  }

  /** A device went away: every group with a stage on it is lost. Returns the services affected. */
  deviceLost(deviceId: string, at = Date.now()): string[] {
    const hit: string[] = [];
    for (const g of this.groups.values()) {
      if (!g.lost && g.stages.some((s) => s.deviceId === deviceId)) {
        g.lost = { deviceId, at };
        hit.push(g.service);
      }
    }
    return hit;
  }

  /** The line the demo and the CLI print: `pipeline <service> <k> stages: <device> → <device> …`. */
  static describe(g: PipelineGroup): string {
    return `pipeline ${g.service} ${g.stages.length} stages: ${g.stages.map((s) => s.deviceId).join(' → ')}`;
  }
}

/** Whether a deployed service name is a pipeline stage (`<service>#<index>`), not a service of its own. */
export function isStageService(name: string): boolean {
  return /#\d+$/.test(name);
}
