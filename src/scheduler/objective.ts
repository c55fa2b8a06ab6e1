/**
 * The placement objective: served demand less penalties, in requests per second.
 *
 *   φ(P) = Σ_s w_s · v_s(S_s(P))                            served demand, v(x) = min(x, D) + c·(y − y²/2D) + ¼·min((x − D)⁺, (h−1)·D), y = min(x, D)
 *        − λ_mem  · Σ_u mem_u / mem_device                  memory held (keeps room for others)
 *        − λ_slo  · Σ_u w_s · v_u · rate_u                  supply on devices that report SLO violations
 *        − Σ_{u new} w_s · (load_u / window) · rate_u       supply lost while a new model loads (churn)
 *
 * v is the min(demand, supply) plus a fair-share credit that falls from c (FAIR_CREDIT) per
 * request/s at no supply to 0 at the demand (so no service starves under overload) and a quarter
 * credit for headroom up to h·D (bursts): every service is covered to its demand before any gets
 * spare capacity.
 * Served demand counts requests, the unit goodput is measured in; a cheap high-rate camera
 * service cannot starve an LLM because min(·) stops rewarding it once its demand is covered and a
 * unit only takes the share of a device its residual demand needs. min(D, ·) of a sum is concave,
 * so the first term is monotone submodular and the greedy's marginal gains only shrink as it adds
 * units, which is what makes lazy evaluation (stale gains as upper bounds) exact.
 */
import type { Assignment, ClusterState, DeviceState, Placement, ServiceSpec } from './types.js';

export interface ObjectiveOptions {
  /** Penalty per unit of device memory fraction held. */
  memoryPenalty: number;
  /** Weight of reported SLO violations (0..1 EWMA) against the supply they taint. */
  violationPenalty: number;
  /** The placement window: loading time is charged as the fraction of it a new unit is not serving. */
  windowMs: number;
  /** Plan for this multiple of the observed demand so bursts do not overflow (≥ 1). */
  headroom: number;
}

export const DEFAULT_OBJECTIVE: ObjectiveOptions = { memoryPenalty: 0.01, violationPenalty: 1, windowMs: 60_000, headroom: 2 };

export function demandOf(s: ServiceSpec, state: ClusterState): number {
  const obs = state.observedRps?.[s.name];
  return obs !== undefined && Number.isFinite(obs) && obs >= 0 ? obs : s.demandRps;
}

/** Violation rate a unit inherits from its devices' STATE reports (worst stage counts). */
export function violationOf(unit: Pick<Assignment, 'service' | 'devices'>, byId: Map<string, DeviceState>): number {
  let v = 0;
  for (const id of unit.devices) v = Math.max(v, byId.get(id)?.services[unit.service]?.violationRate ?? 0);
  return Math.min(1, Math.max(0, v));
}

/** Memory fraction a unit holds, summed over its stages. */
export function memoryFractionOf(unit: Pick<Assignment, 'stageFractions' | 'devices'>, s: ServiceSpec, byId: Map<string, DeviceState>): number {
  let f = 0;
  unit.devices.forEach((id, i) => {
    const d = byId.get(id);
    if (d && d.memoryMiB > 0) f += (s.memoryMiB * unit.stageFractions[i]!) / d.memoryMiB;
  });
  return f;
}

/** Credit per request/s of supply beyond the demand (up to the headroom): spare capacity is worth less than demand. */
export const HEADROOM_CREDIT = 0.25;

/**
 * Fair-share credit: a request/s of supply is worth 1 + FAIR_CREDIT·(1 − x/D) while the supply x
 * is below the demand D, so the first requests of a service count up to twice (with the default 1)
 * and the credit falls linearly to nothing at full demand. Under overload, when no service's demand
 * can be covered, the plain min(x, D) is linear in supply and the greedy hands every scarce device to
 * whichever service earns most per device — chat-13b lost every GPU server to chat-7b from ×6, whose
 * weighted requests per device were as good. With this term the greedy equalises x/D across
 * services of equal value per device (proportional shares of the demand), and a service with nothing
 * placed outbids one that already has its demand by up to 2×, so none starves. Still concave in x.
 */
export const FAIR_CREDIT = 1;

/**
 * Value of supply x for demand d with headroom h: min(x, d) + fair-share credit + ¼ credit for spare
 * capacity up to h·d. Concave and non-decreasing (slope 1 + FAIR_CREDIT at 0, 1 at d, ¼, then 0).
 */
export function servedValue(x: number, d: number, h: number): number {
  if (x <= 0 || d <= 0) return 0;
  const y = Math.min(x, d);
  return y + FAIR_CREDIT * (y - (y * y) / (2 * d)) + HEADROOM_CREDIT * Math.min(Math.max(0, x - d), (h - 1) * d);
}

export interface GainInput {
  weight: number;
  /** Observed demand D (without headroom). */
  demandRps: number;
  /** Supply already placed for the service. */
  suppliedRps: number;
  rateRps: number;
  violation: number;
  loadFraction: number;
  memoryFraction: number;
}

/** Marginal gain of adding one unit given the demand still unserved. */
export function marginalGain(g: GainInput, o: ObjectiveOptions): number {
  if (g.demandRps <= 0) return -o.memoryPenalty * g.memoryFraction;
  const served = servedValue(g.suppliedRps + g.rateRps, g.demandRps, o.headroom) - servedValue(g.suppliedRps, g.demandRps, o.headroom);
  return g.weight * (served * (1 - g.loadFraction) - o.violationPenalty * g.violation * g.rateRps) - o.memoryPenalty * g.memoryFraction;
}

/** φ of a whole placement (used by tests and reports; the greedy works with marginal gains). */
export function objectiveValue(p: Placement, services: ServiceSpec[], state: ClusterState, o: ObjectiveOptions = DEFAULT_OBJECTIVE, loadedBefore?: Set<string>): number {
  const byId = new Map(state.devices.map((d) => [d.id, d]));
  const spec = new Map(services.map((s) => [s.name, s]));
  const supply = new Map<string, number>();
  let penalty = 0;
  for (const u of p.assignments) {
    const s = spec.get(u.service);
    if (!s) continue;
    supply.set(u.service, (supply.get(u.service) ?? 0) + u.rateRps);
    const scale = s.weight ?? 1;
    penalty += o.memoryPenalty * memoryFractionOf(u, s, byId) + o.violationPenalty * scale * violationOf(u, byId) * u.rateRps;
    if (loadedBefore && !u.devices.every((id) => loadedBefore.has(`${u.service}@${id}`))) {
      const dev = byId.get(u.devices[0]!);
      const load = s.loadMs ?? 500;
      if (dev) penalty += scale * (load / o.windowMs) * u.rateRps;
    }
  }
  let value = 0;
  for (const s of services) value += (s.weight ?? 1) * servedValue(supply.get(s.name) ?? 0, demandOf(s, state), o.headroom);
  return value - penalty;
}
