import { WORKLOADS } from './service-catalogue.js';
import type { JsonSchema } from './http-schemas.js';
import type { RouteSpec } from './http-routes.js';

/**
 * What the scheduler shows over HTTP: GET /placement (the current plan, per device) and
 * GET /services (per service: category, SLO, demand, learned service times, goodput, attainment,
 * p99). The same JSON as `epara placement --json` and `epara services --json`, which read these.
 * In their own file so the route table of http-routes.ts stays one line longer, not forty.
 */
const num: JsonSchema = { type: 'number' };
const text: JsonSchema = { type: 'string' };
const nullableNum: JsonSchema = { type: ['number', 'null'] };

/** POST /deployments' declaration fields (service-catalogue.ts checks the ranges, for the CLI too). */
export const DECLARATION_SCHEMA: Record<string, JsonSchema> = {
  sloMs: num,
  fps: num,
  demandRps: num,
  weight: num,
  workload: { type: 'string', enum: [...WORKLOADS] },
};

/** POST /infer's `route`: where the scheduler sent the request and the predicted finish that decided it. */
export const ROUTE_SCHEMA: JsonSchema = {
  type: 'object',
  properties: { device: text, policy: text, predictedMs: num, meetsDeadline: { type: 'boolean' }, considered: { type: 'array', items: { type: 'object', properties: { device: text, predictedMs: num } } } },
};

const unit: JsonSchema = { type: 'object', properties: { service: text, stage: num, stages: num, replicas: num, batch: num, share: num } };

export const PLACEMENT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    scheduler: text,
    planVersion: num,
    madeAt: nullableNum,
    planningMs: nullableNum,
    devices: { type: 'array', items: { type: 'object', properties: { id: text, units: { type: 'array', items: unit } } } },
  },
};

export const SERVICE_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    service: text,
    category: text,
    version: text,
    sloMs: num,
    fps: num,
    weight: num,
    declaredRps: nullableNum,
    measuredRps: nullableNum,
    plannedRps: num,
    memoryMiB: num,
    serviceTimeMs: { type: 'object', additionalProperties: num },
    samples: num,
    goodputRps: num,
    attainment: nullableNum,
    p99Ms: nullableNum,
    finished: num,
  },
};

export function schedulerRoutes(): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/placement',
      summary: "the scheduler's current plan: version, when it was made, planning time, and per device its units",
      response: { 200: PLACEMENT_SCHEMA },
      handler: (s) => ({ status: 200, body: s.placementView() }),
    },
    {
      method: 'GET',
      url: '/services',
      summary: 'per service: category, SLO, declared and measured demand, learned service time per device class, goodput, SLO attainment, p99',
      response: { 200: { type: 'array', items: SERVICE_SCHEMA } },
      handler: (s) => ({ status: 200, body: s.servicesView() }),
    },
  ];
}
