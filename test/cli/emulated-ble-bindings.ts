/**
 * The EPARA_BLE_BINDINGS module of the `serve --ble` tests: it hands noble the emulated bindings
 * (firmware-sims/links/ble-peripheral-bindings.ts) that a test installed, since the CLI runs in the
 * test's own process.
 */
import { fileURLToPath } from 'node:url';
import type { ByteStream } from '../../src/transport/byte-stream.js';

type Holder = { __eparaEmulatedBleBindings?: unknown };

export default function bindings(): unknown {
  const b = (globalThis as Holder).__eparaEmulatedBleBindings;
  if (!b) throw new Error('the test did not install emulated BLE bindings (installEmulatedBle)');
  return b;
}

/** Make `bindings` what noble gets in this process: this module becomes EPARA_BLE_BINDINGS. */
export function installEmulatedBle(b: unknown): void {
  (globalThis as Holder).__eparaEmulatedBleBindings = b;
  process.env.EPARA_BLE_BINDINGS = fileURLToPath(import.meta.url);
}

export function removeEmulatedBle(): void {
  delete process.env.EPARA_BLE_BINDINGS;
  delete (globalThis as Holder).__eparaEmulatedBleBindings;
}

/** The device's side of each BLE connection a central opens to `peripheral`, in order: a Connector. */
export function connectionsTo(peripheral: { on(event: 'connection', l: (s: ByteStream) => void): unknown }): () => Promise<ByteStream> {
  const connections: ByteStream[] = [];
  const waiting: Array<(s: ByteStream) => void> = [];
  peripheral.on('connection', (s) => {
    const w = waiting.shift();
    if (w) w(s);
    else connections.push(s);
  });
  return () => {
    const s = connections.shift();
    return s ? Promise.resolve(s) : new Promise((resolve) => waiting.push(resolve));
  };
}
