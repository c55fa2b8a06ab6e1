import type { DeviceClass, DeviceState, Estimator, ServiceSpec } from '../scheduler/types.js';
import { PROFILES, loadTimeMs, serviceTimeMs } from '../sim/device-profiles.js';

/**
 * Learned service times: the gateway's online estimate of what one request of a service costs on
 * a device, from the compute time every INFER_RESPONSE carries (`computeUs`). The planner and the
 * forwarding rule ask it through the Estimator interface, so on real hardware EPARA plans with
 * what that device really does. Lookup order: (service, device), then (service, device class),
 * then the profile model of src/sim/device-profiles.ts. Batches scale as the device class's
 * profile says (t(b) / t(1)): a measurement is of batch-1 requests, as the server sends them.
 */
interface Mean {
  ms: number;
  n: number;
}

/** Weight of a new sample once a mean has this many: an EWMA that forgets a device that changed. */
const WINDOW = 32;

function update(m: Mean | undefined, ms: number): Mean {
  if (!m) return { ms, n: 1 };
  const n = m.n + 1;
  return { ms: m.ms + (ms - m.ms) / Math.min(n, WINDOW), n };
}

export class ServiceTimes implements Estimator {
  private readonly byDevice = new Map<string, Mean>();
  private readonly byClass = new Map<string, Mean>();

  /** `runnable(device, service)` false: the device cannot take the service's artifact at all (its HELLO formats), so Infinity. */
  constructor(private readonly runnable: (deviceId: string, service: string) => boolean = () => true) {}

  /** One answered request: its compute time on the device, ms. */
  observe(service: string, deviceId: string, deviceClass: DeviceClass, computeMs: number): void {
    if (!Number.isFinite(computeMs) || computeMs < 0) return;
    const d = `${service}\u0000${deviceId}`;
    const c = `${service}\u0000${deviceClass}`;
    this.byDevice.set(d, update(this.byDevice.get(d), computeMs));
    this.byClass.set(c, update(this.byClass.get(c), computeMs));
  }

  /** Measured batch-1 time per device class: `{ class: { ms, samples } }`. */
  perClass(service: string): Partial<Record<DeviceClass, { ms: number; samples: number }>> {
    const out: Partial<Record<DeviceClass, { ms: number; samples: number }>> = {};
    for (const [k, m] of this.byClass) {
      const [s, cls] = k.split('\u0000') as [string, DeviceClass];
      if (s === service) out[cls] = { ms: m.ms, samples: m.n };
    }
    return out;
  }

  /**
   * The reference-device work (`ServiceSpec.workMs`) that the measurements imply, for classes not
   * measured yet: a class measured at t ms means work = (t − overhead) × speed[kind].
   */
  impliedWorkMs(service: string, kind: string): number | undefined {
    let best: { work: number; n: number } | undefined;
    for (const [cls, m] of Object.entries(this.perClass(service)) as Array<[DeviceClass, { ms: number; samples: number }]>) {
      const p = PROFILES[cls];
      const speed = p.speed[kind] ?? 0;
      if (!(speed > 0)) continue;
      const work = Math.max(0.001, (m.ms - p.overheadMs) * speed);
      if (!best || m.samples > best.n) best = { work, n: m.samples };
    }
    return best?.work;
  }

  serviceTimeMs(device: DeviceState, s: ServiceSpec, batch: number, workFraction = 1, sizeFactor = 1): number {
    if (!this.runnable(device.id, s.name)) return Infinity;
    const profile = PROFILES[device.deviceClass];
    const m = this.byDevice.get(`${s.name}\u0000${device.id}`) ?? this.byClass.get(`${s.name}\u0000${device.deviceClass}`);
    if (!m) return serviceTimeMs(profile, s, batch, workFraction, sizeFactor);
    const one = serviceTimeMs(profile, s, 1);
    const ratio = Number.isFinite(one) && one > 0 ? serviceTimeMs(profile, s, batch) / one : 1 + profile.batchBeta * (Math.max(1, batch) - 1);
    return m.ms * ratio * workFraction * sizeFactor;
  }

  loadTimeMs(device: DeviceState, _s: ServiceSpec, memoryMiB: number): number {
    return loadTimeMs(PROFILES[device.deviceClass], memoryMiB);
  }

  sharing(device: DeviceState): { streams: number; slowdown: number } {
    const p = PROFILES[device.deviceClass];
    return { streams: p.concurrency, slowdown: p.mtSlowdown };
  }
}
