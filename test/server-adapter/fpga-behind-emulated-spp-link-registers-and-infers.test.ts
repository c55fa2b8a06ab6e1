import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emulatedSerialPair } from '../../firmware-sims/links/serial-link.js';
import { EparaDevice } from '../../src/client/device.js';
import { tensorFrom, tensorValues } from '../../src/protocol/index.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { until } from './helpers/raw-device.js';

let dir: string;
let server: EparaServer;
let device: EparaDevice | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-spp-'));
  server = new EparaServer({ dataDir: join(dir, 'srv'), rttProbeMs: 0 });
  await server.start();
});
afterEach(async () => {
  await device?.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a device behind a serial (SPP) link', () => {
  it('registers over an emulated HC-05 link, serves inference, and rides out bit errors', async () => {
    const { key } = server.provision({ id: 'basys3', deviceClass: 'fpga' });
    // 115200 baud with 20 ms of Bluetooth latency: the HC-05 link the FPGA sits behind.
    const [serverEnd, deviceEnd, control] = emulatedSerialPair({ baud: 115_200, latencyMs: 20, kind: 'spp', name: 'rfcomm-emu', seed: 7 });
    server.attachStream(serverEnd);
    device = await EparaDevice.connect({ stream: deviceEnd, id: 'basys3', key, deviceClass: 'fpga', dataDir: join(dir, 'dev'), maxFrame: 256 });
    // The FPGA endpoint: int8 weights, MAC, ReLU, argmax; here a fixed 4x4 layer stands in for it.
    device.registerHandler('fc', (inputs) => {
      const x = tensorValues(inputs[0]!) as Int8Array;
      const out = new Int32Array(4);
      for (let o = 0; o < 4; o++) for (let i = 0; i < 4; i++) out[o]! += x[i]! * (o === i ? 2 : -1);
      return [tensorFrom('y', out, [4])];
    });
    await until(() => server.device('basys3')?.view?.services.some((s) => s.name === 'fc' && s.status === 'ready') === true);
    expect(server.device('basys3')).toMatchObject({ deviceClass: 'fpga', remote: expect.stringContaining('rfcomm-emu') });

    const x = tensorFrom('x', new Int8Array([1, 2, 3, 4]), [4]);
    const r = await server.infer('fc', [x], { deadlineMs: 5000 });
    expect([...(tensorValues(r.outputs[0]!) as Int32Array)]).toEqual([-7, -4, -1, 2]);

    // Noise on the line: damaged frames are dropped by CRC and retransmitted by the link layer.
    control.setFaults({ bitFlipRate: 0.002 });
    let ok = 0;
    for (let i = 0; i < 5; i++) {
      const y = await server.infer('fc', [x], { deadlineMs: 2000 }).catch(() => undefined);
      if (y) ok++;
    }
    control.setFaults({ bitFlipRate: 0 });
    expect(ok).toBeGreaterThan(0);
    expect(control.counters.bitsFlipped).toBeGreaterThan(0);
    expect(server.device('basys3')!.state).not.toBe('offline');
  });
});
