import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { EmulatedBleBindings, EmulatedPeripheral } from '../../firmware-sims/links/ble-peripheral-bindings.js';
import { connectionsTo, installEmulatedBle, removeEmulatedBle } from './emulated-ble-bindings.js';
import { deployClassifierAndInfer, deviceShown, epara, sandbox, until, type Sandbox } from './helpers.js';

let sb: Sandbox | undefined;
let device: EmulatedDevice | undefined;
afterEach(async () => {
  await device?.close({ graceful: false }).catch(() => undefined);
  device = undefined;
  removeEmulatedBle();
  sb?.cleanup();
});

describe('epara serve --ble', () => {
  it('connects to a Nordic UART peripheral through noble, serves it (register, deploy, infer), and reconnects after the link drops', async () => {
    sb = sandbox({ fakeTools: false });
    const dd = ['--data-dir', sb.dataDir];
    // Registered before serve starts (straight into the registry): the device speaks as soon as serve connects.
    const { key } = (await epara([...dd, 'register', 'ble-pi', '--class', 'microcomputer', '--init', '--json'], { env: sb.env })).json<{ key: string }>();

    // The real noble library over emulated HCI bindings with one NUS peripheral on the air.
    const peripheral = new EmulatedPeripheral({ address: 'c0:ff:ee:00:00:01', name: 'epara-ble-pi', profile: 'nus' });
    const bindings = new EmulatedBleBindings({ peripherals: [peripheral] });
    installEmulatedBle(bindings);
    // The device's side of each BLE connection the gateway opens.
    const nextConnection = connectionsTo(peripheral);
    const started = EmulatedDevice.start({ profile: 'microcomputer', id: 'ble-pi', key, connector: nextConnection, dataDir: join(sb.root, 'dev'), timeScale: 0, device: { reconnect: { initialMs: 50, maxMs: 300 } } });

    const stop = new AbortController();
    const serve = epara([...dd, 'serve', '--ble', 'epara-ble-pi', '--heartbeat', '500'], { env: sb.env, signal: stop.signal });
    try {
      device = await started;
      await until('serve.json', async () => (existsSync(join(sb!.dataDir, 'serve.json')) ? true : undefined));
      const active = async () => {
        const d = await deviceShown(dd, sb!.env, 'ble-pi');
        return d.state === 'active' ? d : undefined;
      };
      await until('the device active over BLE', active);
      await deployClassifierAndInfer(dd, sb.env, 'ble-pi');

      // Out of range: the radio link drops (supervision timeout). serve keeps running, scans,
      // connects again, and the device is back without anyone restarting anything.
      const before = peripheral.connections;
      bindings.dropConnection(peripheral.id);
      await until('a second BLE connection', async () => (peripheral.connections > before ? true : undefined), 30_000);
      await until('the device active again after the reconnect', active, 30_000);
      const again = await epara([...dd, 'infer', 'classifier', '--input', JSON.stringify([Array(16).fill(0.25)]), '--json'], { env: sb.env });
      expect(again.code).toBe(0);
    } finally {
      stop.abort();
      const s = await serve;
      expect(s.stderr).toContain('devices: ble epara-ble-pi');
      expect(s.stderr).toContain('link closed');
      expect(s.stderr).toContain('reopened');
      expect(s.code).toBe(0);
    }
  }, 90_000);
});
