import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { resolveNumber } from '../options.js';
import { CATEGORIES, isCategory } from '../scheduler/categories.js';
import type { Category } from '../scheduler/types.js';

/**
 * The services an operator declared by deploying them (`epara deploy … --category C [--slo-ms N]
 * [--fps N] [--demand-rps N] [--weight N]`, POST /deployments, server.deploy()): what the planner
 * is told about each service besides what it measures. Kept in `<data dir>/services.json` so a
 * restarted gateway plans for what was deployed before.
 */
export interface ServiceDeclaration {
  service: string;
  category: Category;
  /** Latency services: each request's budget. Frequency services: each frame's (default 1000 / fps). */
  sloMs?: number;
  /** Frequency services: frames per second of one flow (default 30). */
  fps?: number;
  /** Expected requests (frames) per second; measured when not given. */
  demandRps?: number;
  /** Relative importance in the planner's objective (default 1). */
  weight?: number;
  /** The service-time model's workload kind until the service is measured: llm, vision or tiny (default from the artifact). */
  workload?: Workload;
}

export const WORKLOADS = ['llm', 'vision', 'tiny'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** The declaration's numbers: ranges and the defaults the planner takes when one is left out. */
export const DECLARATION_SPECS = {
  sloMs: { default: 1000, min: 1, max: 600_000, unit: 'ms' },
  fps: { default: 30, min: 0.1, max: 1000 },
  demandRps: { default: 0, min: 0, max: 1_000_000 },
  weight: { default: 1, min: 0.01, max: 1000 },
};

const DEPLOY_HINT = 'e.g. epara deploy model.onnx --service classifier --category latency-single --slo-ms 200 --to all';

/** Checks a declaration; throws ConfigError (config.category, config.range, config.type) naming the field. */
export function validateDeclaration(d: ServiceDeclaration): ServiceDeclaration {
  if (!isCategory(d.category)) {
    throw new ConfigError({
      code: 'config.category',
      reason: `service ${d.service}: category ${JSON.stringify(String(d.category).slice(0, 40))} is not one of the four EPARA task categories`,
      hint: `use one of ${CATEGORIES.join(', ')}; ${DEPLOY_HINT}`,
      field: 'category',
    });
  }
  const out: ServiceDeclaration = { service: d.service, category: d.category };
  for (const k of ['sloMs', 'fps', 'demandRps', 'weight'] as const) {
    if (d[k] === undefined) continue;
    try {
      out[k] = resolveNumber(k, d[k], DECLARATION_SPECS[k]);
    } catch (e) {
      const c = e as ConfigError;
      throw new ConfigError({ code: c.code, reason: `service ${d.service}: ${c.reason}`, hint: `${c.hint}; ${DEPLOY_HINT}`, field: k, details: c.details });
    }
  }
  if (d.fps !== undefined && d.category.startsWith('latency')) {
    throw new ConfigError({ code: 'config.slo', reason: `service ${d.service}: --fps is for frequency services, not ${d.category}`, hint: 'give --slo-ms for a latency service, or deploy it with --category frequency-single', field: 'fps' });
  }
  if (d.workload !== undefined) {
    if (!(WORKLOADS as readonly string[]).includes(d.workload)) {
      throw new ConfigError({ code: 'config.type', reason: `service ${d.service}: workload ${JSON.stringify(String(d.workload).slice(0, 40))} is not ${WORKLOADS.join(', ')}`, hint: `use one of ${WORKLOADS.join(', ')}`, field: 'workload' });
    }
    out.workload = d.workload;
  }
  return out;
}

export class ServiceCatalogue {
  private readonly byName = new Map<string, ServiceDeclaration>();
  private readonly file: string | undefined;

  constructor(dataDir?: string) {
    this.file = dataDir ? join(dataDir, 'services.json') : undefined;
    if (this.file && existsSync(this.file)) {
      try {
        const list = JSON.parse(readFileSync(this.file, 'utf8')) as ServiceDeclaration[];
        for (const d of list) this.byName.set(d.service, validateDeclaration(d));
      } catch {
        // A damaged file loses the declarations, not the gateway: the next deploy declares again.
      }
    }
  }

  /** Records (or replaces) a service's declaration; returns what was stored. */
  declare(d: ServiceDeclaration): ServiceDeclaration {
    const v = validateDeclaration(d);
    this.byName.set(v.service, v);
    if (this.file) {
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, JSON.stringify([...this.byName.values()], null, 2), { mode: 0o600 });
      renameSync(tmp, this.file);
    }
    return v;
  }

  get(service: string): ServiceDeclaration | undefined {
    return this.byName.get(service);
  }

  all(): ServiceDeclaration[] {
    return [...this.byName.values()];
  }
}
