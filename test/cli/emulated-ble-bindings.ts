/**
 * The EPARA_BLE_BINDINGS module of the `serve --ble` test: it hands noble the emulated bindings
 * (firmware-sims/links/ble-peripheral-bindings.ts) that the test built and put on globalThis, since
 * the CLI runs in the test's own process.
 */
export default function bindings(): unknown {
  const b = (globalThis as { __eparaEmulatedBleBindings?: unknown }).__eparaEmulatedBleBindings;
  if (!b) throw new Error('the test did not set globalThis.__eparaEmulatedBleBindings');
  return b;
}
