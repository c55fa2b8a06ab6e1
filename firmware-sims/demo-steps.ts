/**
 * What the demo shows of the scheduler (issue 17 §6), and the hook further demo steps plug into.
 * `runDemo` (demo.ts) sets up the server and fleet and deploys; these print the services'
 * categories, the plan (devices → units) of each placement round, where a request was routed and
 * why, and a frame flow's attainment. A step added to DEMO_STEPS runs after the built-in ones,
 * with the same context (the pipeline step — `pipeline <service> <k> stages: …` — goes there).
 */
import type { EparaServer } from '../src/server-adapter/server.js';
import type { PlacementView, ServiceView } from '../src/server-adapter/live-scheduler.js';
import type { RouteDecision } from '../src/server-adapter/scheduler-wiring.js';
import type { Fleet } from './fleet.js';
import type { Prng } from './links/prng.js';
import { pipelineStep } from './demo-pipeline-step.js';

export interface DemoContext {
  server: EparaServer;
  fleet: Fleet;
  /** fixtures/models */
  models: string;
  rand: Prng;
  /** A timestamped line. */
  say(line: string): void;
  /** A plain line (pictures, tables). */
  out(line: string): void;
  /** Counts an answered inference for the summary line. */
  answered(n?: number): void;
}

export interface DemoStep {
  name: string;
  run(ctx: DemoContext): Promise<void>;
}

/** Further steps, run in order after the built-in ones. Add yours here. */
export const DEMO_STEPS: DemoStep[] = [pipelineStep];

type Unit = PlacementView['devices'][number]['units'][number];

const unitText = (u: Unit) =>
  `${u.service}${u.stages !== undefined && u.stage !== undefined ? ` stage ${u.stage + 1}/${u.stages}` : ''}${u.replicas !== undefined ? ` ×${u.replicas}` : ''}${u.batch !== undefined ? ` b${u.batch}` : ''}${u.share !== undefined && u.share < 1 ? ` ${u.share < 0.01 ? '<1' : Math.round(u.share * 100)}%` : ''}`;

function sloText(s: ServiceView): string {
  return s.fps !== undefined ? `${s.fps} fps, ${s.sloMs.toFixed(0)} ms a frame` : `SLO ${s.sloMs.toFixed(0)} ms`;
}

/** `services    classifier latency-single (SLO 200 ms, 5 req/s planned)` per service. */
export function showServices(ctx: DemoContext): void {
  for (const s of ctx.server.servicesView()) {
    ctx.say(`service     ${s.service.padEnd(13)} ${s.category.padEnd(17)} ${sloText(s)}, ${s.plannedRps.toFixed(1)} req/s planned (${s.declaredRps !== null ? 'declared' : s.measuredRps !== null ? 'measured' : 'not measured yet: the floor'})`);
  }
}

/** Runs one placement round and prints the plan, device by device, and what the round did. */
export async function placeAndShow(ctx: DemoContext, why: string): Promise<void> {
  const round = await ctx.server.placement();
  const view = ctx.server.placementView();
  const did = new Map<string, number>();
  for (const o of round?.outcomes ?? []) did.set(o.action.action, (did.get(o.action.action) ?? 0) + 1);
  const actions = [...did].map(([a, n]) => `${n} ${a}`).join(', ') || 'nothing to change';
  ctx.say(`placement   plan ${view.planVersion} (${why}; scheduler ${view.scheduler}, planning took ${view.planningMs} ms): ${actions}`);
  for (const d of view.devices) ctx.out(`            ${d.id.padEnd(16)} → ${d.units.length ? d.units.map(unitText).join(', ') : '-'}`);
}

/** `routed by epara: predicted finish 3.1 ms (others: pi-2 7.0 ms)`. */
export function routeText(r: RouteDecision | undefined): string {
  if (!r) return 'routed least-loaded (no scheduler decision)';
  const others = r.considered.filter((c) => c.device !== r.device).map((c) => `${c.device} ${c.predictedMs.toFixed(1)} ms`);
  return `routed by ${r.policy}: predicted finish ${r.predictedMs.toFixed(1)} ms${others.length ? ` (others: ${others.join(', ')})` : ''}`;
}
