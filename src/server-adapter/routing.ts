import type { DeploymentState } from '../device-mgmt/registry/store.js';

/**
 * Request routing used by EparaServer.infer() when no scheduler request handler is configured:
 * the least-loaded device that has the service ready. The score mixes what the server knows
 * right now (its own in-flight calls) with what the last STATE said (queue, load, violations).
 */
export interface RouteCandidate {
  deviceId: string;
  /** 0..1 from STATE. */
  load: number;
  queueLen: number;
  /** infer() calls this server has in flight on the device. */
  inflight: number;
  /** 0..1 smoothed. */
  violationRate: number;
}

export function routeScore(c: RouteCandidate): number {
  return c.inflight + c.queueLen + c.load + 2 * c.violationRate;
}

/** Lowest score wins; ties go to the device id that sorts first, so routing is deterministic. */
export function pickDevice(cands: readonly RouteCandidate[]): string | undefined {
  let best: RouteCandidate | undefined;
  for (const c of cands) {
    if (!best) {
      best = c;
      continue;
    }
    const a = routeScore(c);
    const b = routeScore(best);
    if (a < b || (a === b && c.deviceId < best.deviceId)) best = c;
  }
  return best?.deviceId;
}

/**
 * Whether a device may take requests for a service. A DEPLOY_RESULT is fresher than the last
 * STATE: trust the deployment record when it says ready or undeployed (or undeploying); otherwise
 * (rolled back, new version in transfer, custom handler) the device's own report decides.
 */
export function routable(latest: DeploymentState | undefined, reported: string | undefined): boolean {
  if (latest === 'ready' || latest === 'rolled-back') return reported !== 'failed' && reported !== 'unloaded';
  if (latest === 'undeployed' || latest === 'undeploying') return false;
  return reported === 'ready';
}
