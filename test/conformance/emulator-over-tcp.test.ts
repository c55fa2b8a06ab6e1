/**
 * The kit against the TypeScript emulators of every device class over real TCP on 127.0.0.1:
 * the kit listens, the emulated device (the real EparaDevice SDK dressed as a profile) connects,
 * as it would to a gateway. The classes run side by side, each on its own port.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openTarget, runConformance, type ConformReport } from '../../src/conformance/index.js';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import type { ProfileName } from '../../firmware-sims/profiles.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { EMULATOR_DEVICE, FAST, failed, newKey, tmpDir } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function conformOverTcp(profile: ProfileName): Promise<ConformReport> {
  const links = await openTarget({ kind: 'tcp', host: '127.0.0.1', port: 0 });
  cleanups.push(() => links.close());
  const key = newKey();
  const id = `emu-${profile}`;
  const dataDir = tmpDir(cleanups);
  const start = () => EmulatedDevice.start({ profile, id, key, dataDir, timeScale: 0, connector: () => connectTcp({ host: '127.0.0.1', port: links.port! }), device: EMULATOR_DEVICE });
  let dev: EmulatedDevice | undefined;
  void start().then((d) => (dev = d), () => undefined);
  cleanups.push(async () => dev?.close({ graceful: false }));
  return runConformance(links, {
    id, key, deviceClass: profile, timings: FAST,
    // returns once the device is booting again; it connects when the kit answers its HELLO
    restart: async () => {
      await dev!.close({ graceful: false });
      void start().then((d) => (dev = d), () => undefined);
    },
  });
}

describe.concurrent('epara conform against the emulators over TCP', () => {
  for (const profile of ['gpu-server', 'embedded-gpu', 'microcomputer', 'mcu', 'fpga'] as const) {
    it(`${profile}: every required check passes, none skipped`, async () => {
      const rep = await conformOverTcp(profile);
      console.log(`[conform] ${profile} over TCP: ${rep.summary.passed} passed, ${rep.summary.failed} failed, ${rep.summary.skipped} skipped, ${rep.summary.warnings} warnings in ${rep.durationMs} ms`);
      expect(failed(rep)).toEqual([]);
      expect(rep.results.filter((r) => r.status === 'skip').map((r) => r.id)).toEqual([]);
      expect(rep.ok).toBe(true);
      expect(rep.device).toMatchObject({ id: `emu-${profile}`, deviceClass: profile });
    }, 60_000);
  }
});
