/**
 * The device SDK against the real EparaServer over every link kind it runs on: real kernel ptys
 * (socat), the emulated 9600-baud SPP line of an HC-05, and a BLE peripheral driven by the real
 * noble library through emulated bindings. (TCP: device-real-server-tcp.test.ts.)
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { openSerial } from '../../src/transport/serial.js';
import { connectBle } from '../../src/transport/ble.js';
import type { ByteStream } from '../../src/transport/byte-stream.js';
import { tensorFrom, tensorValues } from '../../src/protocol/index.js';
import { emulatedSerialPair } from '../../firmware-sims/links/serial-link.js';
import { EmulatedBleBindings, EmulatedPeripheral } from '../../firmware-sims/links/ble-peripheral-bindings.js';
import { fixturesDir } from '../../scripts/gen-models.js';
import { haveSocat, ptyPair } from '../transport/helpers/socat.js';
import { mlpReference, readWeights } from './reference-nets.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'epara-tx-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
async function server(): Promise<EparaServer> {
  const s = new EparaServer({ dataDir: tmp(), periods: { stateSyncMs: 200, heartbeatMs: 2000 }, deploy: { chunkSize: 1024 } });
  await s.start();
  cleanups.push(() => s.close({ drainMs: 0 }));
  return s;
}

const mlp = join(fixturesDir(), 'mlp-classifier.onnx');
const weights = readWeights(mlp);

/** Deploy the MLP to the device, wait for its STATE, run one request and check it against the reference. */
async function deployAndInfer(s: EparaServer, id: string): Promise<void> {
  const recs = await s.deploy({ artifact: mlp, service: 'cls', version: '1', kind: 'onnx', category: 'latency-single', to: [id], timeoutMs: 60_000 });
  expect(recs[0]!.state).toBe('ready');
  const end = Date.now() + 10_000;
  while (s.candidates('cls').length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  const x = Array.from({ length: 16 }, (_, i) => Math.cos(i * 0.9) * 2);
  const r = await s.infer('cls', [tensorFrom('input', Float32Array.from(x), [1, 16])], { deadlineMs: 10_000 });
  expect(r.deviceId).toBe(id);
  expect(Number((tensorValues(r.outputs[1]!) as BigInt64Array)[0])).toBe(mlpReference(weights, x).cls);
}

describe('EparaDevice ↔ EparaServer over each transport', () => {
  it.skipIf(!haveSocat)('UART over a pair of real kernel ptys (socat)', async () => {
    const pair = await ptyPair();
    cleanups.push(() => pair.kill());
    const s = await server();
    const srvEnd = await openSerial({ path: pair.a, baudRate: 115200 });
    s.attachStream(srvEnd);
    const { id, key } = s.provision({ id: 'mcu-uart', deviceClass: 'mcu' });
    const dev = await EparaDevice.connect({ connector: () => openSerial({ path: pair.b, baudRate: 115200 }), id, key, deviceClass: 'mcu', dataDir: tmp(), maxFrame: 512, rxWindow: 2 });
    cleanups.push(() => dev.close());
    expect(s.device(id)?.remote ?? '').toMatch(/pts/);
    await deployAndInfer(s, id);
  });

  it('Bluetooth SPP at 9600 baud (emulated HC-05 line)', async () => {
    const s = await server();
    const { id, key } = s.provision({ id: 'fpga-spp', deviceClass: 'microcomputer' });
    const connector = async (): Promise<ByteStream> => {
      const [devEnd, srvEnd, ctl] = emulatedSerialPair({ baud: 9600, kind: 'spp', latencyMs: 15, seed: 3 });
      cleanups.push(() => ctl.disconnect());
      s.attachStream(srvEnd);
      return devEnd;
    };
    const dev = await EparaDevice.connect({ connector, id, key, deviceClass: 'microcomputer', dataDir: tmp(), maxFrame: 512, rxWindow: 2, link: { requestTimeoutMs: 3000 } });
    cleanups.push(() => dev.close());
    await deployAndInfer(s, id);
  });

  it('BLE (Nordic UART service) through the real noble library and an emulated peripheral', async () => {
    const s = await server();
    const { id, key } = s.provision({ id: 'pi-ble', deviceClass: 'microcomputer' });
    const peripheral = new EmulatedPeripheral({ address: 'C0:FF:EE:00:00:01', name: 'epara-pi-ble', profile: 'nus' });
    const bindings = new EmulatedBleBindings({ peripherals: [peripheral] });
    const noble = createRequire(import.meta.url)('@abandonware/noble/with-bindings')(bindings);
    cleanups.push(() => {
      try {
        noble.stopScanning?.();
      } catch {
        /* already stopped */
      }
    });
    // The device is the peripheral: its "connector" waits for the central (the server) to connect
    // and subscribe, as firmware on an nRF52 would wait for a connection.
    let subscribed!: () => void;
    const ready = new Promise<void>((r) => (subscribed = r));
    const connector = async (): Promise<ByteStream> => {
      const stream = await new Promise<ByteStream>((r) => peripheral.once('connection', r));
      await ready;
      return stream;
    };
    const devP = EparaDevice.connect({ connector, id, key, deviceClass: 'microcomputer', dataDir: tmp(), maxFrame: 512, rxWindow: 4 });
    const central = await connectBle({ noble, address: 'c0:ff:ee:00:00:01', timeoutMs: 10_000 });
    expect(central.kind).toBe('ble');
    s.attachStream(central);
    subscribed();
    const dev = await devP;
    cleanups.push(() => dev.close());
    await deployAndInfer(s, id);
  });
});
