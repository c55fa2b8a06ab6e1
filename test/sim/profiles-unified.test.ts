/** One service-time model: the simulator's device classes are the emulated devices' (firmware-sims/profiles.ts). */
import { describe, expect, it } from 'vitest';
import { PROFILES as EMULATED, serviceTimeMs as emulatedTimeMs, workSpec } from '../../firmware-sims/profiles.js';
import { DEVICE_CLASSES } from '../../src/scheduler/types.js';
import { PROFILES, profileEstimator, serviceTimeMs } from '../../src/sim/device-profiles.js';
import { defaultServices } from '../../src/sim/scenario.js';

describe('device profiles: one source for the simulator and the emulators', () => {
  it('every device class the protocol knows has one profile object, used by both', () => {
    for (const cls of DEVICE_CLASSES) {
      expect(PROFILES[cls]).toBeDefined();
      expect(EMULATED[cls].sim).toBe(PROFILES[cls]); // the same object, not a copy that could drift
      expect(EMULATED[cls].caps.memoryKiB).toBe(Math.round(PROFILES[cls].memoryMiB * 1024));
      expect(EMULATED[cls].caps.gpuCount ?? 0).toBe(PROFILES[cls].gpuCount);
    }
  });

  it('an emulated device answers a request in the time the simulator and planner charge for it', () => {
    const est = profileEstimator();
    for (const cls of DEVICE_CLASSES) {
      const state = { id: cls, deviceClass: cls, memoryMiB: PROFILES[cls].memoryMiB, gpuCount: PROFILES[cls].gpuCount, zone: 'z', alive: true, services: {} };
      for (const name of ['segmentation', 'classifier', 'llm', 'mlp-classifier']) {
        const w = workSpec(name);
        const spec = { name, category: 'latency-single' as const, kind: w.kind, workMs: w.workMs, memoryMiB: 1, deadlineMs: 1000, demandRps: 1 };
        for (const b of [1, 2, 8]) {
          expect(emulatedTimeMs(cls, name, b)).toBe(serviceTimeMs(PROFILES[cls], spec, b));
          expect(est.serviceTimeMs(state, spec, b)).toBe(emulatedTimeMs(cls, name, b));
        }
      }
    }
  });

  it('the default scenario runs its services on those classes: an LLM only where the profile has a speed for it', () => {
    for (const s of defaultServices(null, 1, 1, { camFlowsPerSite: 2, hdFlowsPerSite: 1 })) {
      for (const cls of DEVICE_CLASSES) expect(Number.isFinite(serviceTimeMs(PROFILES[cls], s, 1))).toBe((PROFILES[cls].speed[s.kind] ?? 0) > 0);
    }
  });
});
