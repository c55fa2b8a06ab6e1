/**
 * Synthetic camera-style frequency flows for the segmentation services (documented arrival process):
 *  - `flows` cameras per service, each sending `fps` frames per second for the whole run;
 *  - camera k starts at a phase drawn uniformly in [0, 1/fps) and sends frame j at
 *    phase + j/fps + jitter, the jitter uniform in ±jitterFraction/(2·fps) (capture and encoder noise);
 *  - every frame carries the service's frame budget as its deadline and size 1;
 *  - camera k lands on device index k·7919 (mod fleet size), a fixed nearby serving point.
 * All draws come from the seeded generator, so the same seed gives the same frames.
 */
import type { Rng } from './rng.js';

export interface FlowSpec {
  service: string;
  flows: number;
  fps: number;
  budgetMs: number;
  jitterFraction?: number;
  /** First flow id (flow ids are unique across services). */
  firstFlowId: number;
}

export interface Frame {
  timeMs: number;
  service: string;
  deadlineMs: number;
  flow: number;
  ingress: number;
}

/**
 * Calls `emit` for every frame, camera by camera. With the default jitter each camera's frames come
 * in time order (consecutive frames are an interval ± 10% apart), which the workload builder's
 * merge of sorted runs makes cheap; any order is still sorted correctly. Nothing is held: an hour
 * of frames on a few thousand devices is over ten million of them.
 */
export function forEachCameraFrame(spec: FlowSpec, durationMs: number, rng: Rng, emit: (f: Frame) => void): void {
  const interval = 1000 / spec.fps;
  const jitter = (spec.jitterFraction ?? 0.1) * interval;
  for (let k = 0; k < spec.flows; k++) {
    const phase = rng.next() * interval;
    const flow = spec.firstFlowId + k;
    for (let j = 0; ; j++) {
      const t = phase + j * interval + (rng.next() - 0.5) * jitter;
      if (t >= durationMs) break;
      emit({ timeMs: Math.max(0, t), service: spec.service, deadlineMs: spec.budgetMs, flow, ingress: flow * 7919 });
    }
  }
}

/** The frames of forEachCameraFrame as an array (the same frames in the same order, for the same rng state). */
export function cameraFrames(spec: FlowSpec, durationMs: number, rng: Rng): Frame[] {
  const out: Frame[] = [];
  forEachCameraFrame(spec, durationMs, rng, (f) => out.push(f));
  return out;
}
