/**
 * The kit against the TypeScript emulators over a real kernel pty pair (socat): the kit opens one
 * end with the serial target, the emulated device the other, as a USB-UART would join them. The
 * large profiles run at maxFrame 1024 here: a device's request timeout grows with the line time
 * of a window of maximal frames, and at 16 KiB frames on 115200 baud it would take half a minute
 * to notice the kit going silent (heartbeat.lease), inside the lease but slow for a test.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openTarget, runConformance, type ConformReport } from '../../src/conformance/index.js';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { profileFor, type ProfileName } from '../../firmware-sims/profiles.js';
import { openSerial } from '../../src/transport/serial.js';
import { haveSocat, ptyPair } from '../transport/helpers/socat.js';
import { EMULATOR_DEVICE, FAST, failed, newKey, tmpDir } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function conformOverPty(profile: ProfileName): Promise<ConformReport> {
  const pair = await ptyPair();
  cleanups.push(() => pair.kill());
  const links = await openTarget({ kind: 'serial', path: pair.a, baudRate: 115200 });
  cleanups.push(() => links.close());
  const key = newKey();
  const id = `pty-${profile}`;
  const dataDir = tmpDir(cleanups);
  const start = () => EmulatedDevice.start({ profile, id, key, dataDir, timeScale: 0, connector: () => openSerial({ path: pair.b, baudRate: 115200 }), device: { ...EMULATOR_DEVICE, maxFrame: Math.min(profileFor(profile).link.maxFrame, 1024) } });
  let dev: EmulatedDevice | undefined;
  void start().then((d) => (dev = d), () => undefined);
  cleanups.push(async () => dev?.close({ graceful: false }));
  return runConformance(links, {
    id, key, deviceClass: profile, timings: FAST,
    onResult: (x) => x.status !== 'pass' && console.log(`[row ${profile}] ${x.status} ${x.id}: ${x.detail}`),
    restart: async () => {
      await dev!.close({ graceful: false });
      void start().then((d) => (dev = d), () => undefined);
    },
  });
}

describe.skipIf(!haveSocat).concurrent('epara conform against the emulators over a socat pty pair', () => {
  for (const profile of ['gpu-server', 'embedded-gpu', 'microcomputer', 'mcu', 'fpga'] as const) {
    it(`${profile}: every required check passes, none skipped`, async () => {
      const rep = await conformOverPty(profile);
      console.log(`[conform] ${profile} over a pty: ${rep.summary.passed} passed, ${rep.summary.failed} failed, ${rep.summary.skipped} skipped, ${rep.summary.warnings} warnings in ${rep.durationMs} ms`);
      expect(failed(rep)).toEqual([]);
      expect(rep.results.filter((r) => r.status === 'skip').map((r) => r.id)).toEqual([]);
      expect(rep.ok).toBe(true);
    }, 60_000);
  }
});
