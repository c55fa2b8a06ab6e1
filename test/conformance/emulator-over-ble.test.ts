/**
 * The kit's BLE target: it is the central and connects by name to a Nordic UART peripheral, through
 * the real noble library over emulated HCI bindings (EPARA_BLE_BINDINGS, as `serve --ble` is
 * tested); the emulated device speaks on each connection the kit opens, and the kit connects again
 * whenever the device drops the link. Each reconnection costs the emulated radio about 5 s, so the
 * deploy family (the one that drops the link twice) and the version family (version.v1-session
 * needs one more session) are left out here; TCP and the pty run both.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openTarget, runConformance } from '../../src/conformance/index.js';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { EmulatedBleBindings, EmulatedPeripheral } from '../../firmware-sims/links/ble-peripheral-bindings.js';
import { connectionsTo, installEmulatedBle, removeEmulatedBle } from '../cli/emulated-ble-bindings.js';
import { EMULATOR_DEVICE, FAST, failed, newKey, tmpDir } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  removeEmulatedBle();
});

describe('epara conform over BLE (ble:NAME)', () => {
  it('mcu behind a Nordic UART peripheral: every check but the deploy and version families passes', async () => {
    const peripheral = new EmulatedPeripheral({ address: 'c0:ff:ee:00:00:07', name: 'epara-conform-mcu', profile: 'nus' });
    installEmulatedBle(new EmulatedBleBindings({ peripherals: [peripheral] }));
    const nextConnection = connectionsTo(peripheral);
    const key = newKey();
    const dataDir = tmpDir(cleanups);
    const start = () => EmulatedDevice.start({ profile: 'mcu', id: 'ble-mcu', key, dataDir, timeScale: 0, connector: nextConnection, device: EMULATOR_DEVICE });
    let dev: EmulatedDevice | undefined;
    void start().then((d) => (dev = d), () => undefined);
    cleanups.push(async () => dev?.close({ graceful: false }));
    const links = await openTarget({ kind: 'ble', name: 'epara-conform-mcu' });
    cleanups.push(() => links.close());
    expect(links.canDrop).toBe(true);
    const rep = await runConformance(links, {
      // deploy and version are left out: each reconnection costs the emulated radio ~5 s, and
      // version.v1-session needs one more session (TCP and the pty run both families)
      id: 'ble-mcu', key, deviceClass: 'mcu', timings: FAST, skip: ['deploy', 'version'],
      onResult: (x) => (x.status !== 'pass' || x.durationMs > 800) && console.log(`[row ble] ${x.status} ${x.id} ${x.durationMs} ms: ${x.detail}`),
      restart: async () => {
        await dev!.close({ graceful: false });
        void start().then((d) => (dev = d), () => undefined);
      },
    });
    console.log(`[conform] mcu over BLE: ${rep.summary.passed} passed, ${rep.summary.failed} failed, ${rep.summary.skipped} skipped, ${rep.summary.warnings} warnings in ${rep.durationMs} ms`);
    expect(rep.target).toBe('ble:epara-conform-mcu');
    expect(failed(rep)).toEqual([]);
    // only the deploy and version families and what needs a deployed service are skipped, and they say why
    const skipped = rep.results.filter((r) => r.status === 'skip');
    const versionRows = rep.results.filter((r) => r.family === 'version').map((r) => r.id);
    expect(versionRows.length).toBeGreaterThan(0);
    expect(skipped.map((r) => r.id).sort()).toEqual(['deploy.bad-hash-rollback', 'deploy.go-back-n', 'deploy.resume-after-drop', 'deploy.resume-after-restart', 'deploy.transfer', 'infer.bad-input', 'infer.ok', 'ping.during-deploy', 'state.served-since-last', ...versionRows].sort());
    expect(skipped.every((r) => /skip/.test(r.detail))).toBe(true);
    expect(rep.ok).toBe(true);
  }, 60_000);
});
