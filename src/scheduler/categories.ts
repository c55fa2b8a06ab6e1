/**
 * Task categories (EPARA's two axes) and validation of service specs. A service's category
 * decides its SLO (deadline per request, or frame rate per flow) and which parallel modes the
 * allocator may use (replicas only, or model-parallel groups as well).
 */
import { schedError } from './errors.js';
import type { Category, GpuNeed, Sensitivity, ServiceSpec } from './types.js';

export const CATEGORIES: readonly Category[] = ['latency-single', 'latency-multi', 'frequency-single', 'frequency-multi'];

export function categoryOf(sensitivity: Sensitivity, need: GpuNeed): Category {
  return `${sensitivity}-${need}` as Category;
}

export function sensitivityOf(c: Category): Sensitivity {
  return c.startsWith('latency') ? 'latency' : 'frequency';
}

export function gpuNeedOf(c: Category): GpuNeed {
  return c.endsWith('multi') ? 'multi' : 'single';
}

export function isCategory(x: unknown): x is Category {
  return typeof x === 'string' && (CATEGORIES as readonly string[]).includes(x);
}

/** The SLO a category implies, in words and numbers (used by reports and docs). */
export interface Slo {
  kind: 'deadline' | 'frame-rate';
  /** Latency: the request's deadline. Frequency: each frame's budget. */
  budgetMs: number;
  /** Frequency only: frames per second per flow. */
  targetFps?: number;
}

export function sloOf(s: ServiceSpec): Slo {
  return sensitivityOf(s.category) === 'latency'
    ? { kind: 'deadline', budgetMs: s.deadlineMs }
    : { kind: 'frame-rate', budgetMs: s.deadlineMs, targetFps: s.targetFps };
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

function positive(s: ServiceSpec, field: keyof ServiceSpec, allowZero = false): void {
  const v = s[field];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw schedError('sched.bad_service', `service ${String(s.name)}: ${String(field)} must be a ${allowZero ? 'non-negative' : 'positive'} finite number, got ${String(v)}`,
      `fix ${String(field)} in the service spec`, String(field));
  }
}

/** Checks one service spec; throws SchedulerError sched.bad_service naming the field. */
export function validateService(s: ServiceSpec): ServiceSpec {
  if (typeof s !== 'object' || s === null) throw schedError('sched.bad_service', 'service spec must be an object', 'pass { name, category, memoryMiB, kind, workMs, deadlineMs, demandRps }');
  if (typeof s.name !== 'string' || !NAME.test(s.name)) {
    throw schedError('sched.bad_service', `service name ${JSON.stringify(s.name)} is not 1..64 characters of [A-Za-z0-9._-]`, 'rename the service', 'name');
  }
  if (!isCategory(s.category)) {
    throw schedError('sched.bad_service', `service ${s.name}: unknown category ${JSON.stringify(s.category)}`, `use one of ${CATEGORIES.join(', ')}`, 'category');
  }
  if (typeof s.kind !== 'string' || s.kind.length === 0) throw schedError('sched.bad_service', `service ${s.name}: kind must be a non-empty string`, 'e.g. llm, vision, tiny', 'kind');
  positive(s, 'memoryMiB');
  positive(s, 'workMs');
  positive(s, 'deadlineMs');
  positive(s, 'demandRps', true);
  if (s.weight !== undefined) positive(s, 'weight');
  if (s.loadMs !== undefined) positive(s, 'loadMs', true);
  if (s.activationKiB !== undefined) positive(s, 'activationKiB', true);
  if (s.maxBatch !== undefined && (!Number.isInteger(s.maxBatch) || s.maxBatch < 1 || s.maxBatch > 1024)) {
    throw schedError('sched.bad_service', `service ${s.name}: maxBatch must be an integer 1..1024, got ${s.maxBatch}`, 'fix maxBatch', 'maxBatch');
  }
  for (const k of ['sizeSpread', 'bucketedSpread', 'burstFactor'] as const) {
    const v = s[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 1 && v <= 1000)) {
      throw schedError('sched.bad_service', `service ${s.name}: ${k} must be a number in [1, 1000], got ${String(v)}`, 'the expected largest request of a batch over the mean size; 1 when requests are alike', k);
    }
  }
  if (sensitivityOf(s.category) === 'frequency') positive(s, 'targetFps');
  return s;
}

export function validateServices(list: ServiceSpec[]): Map<string, ServiceSpec> {
  const out = new Map<string, ServiceSpec>();
  for (const s of list) {
    validateService(s);
    if (out.has(s.name)) throw schedError('sched.bad_service', `service ${s.name} is listed twice`, 'give each service a unique name', 'name');
    out.set(s.name, s);
  }
  return out;
}
