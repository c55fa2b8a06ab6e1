import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedBleBindings } from '../../firmware-sims/links/ble-peripheral-bindings.js';
import { installEmulatedBle, removeEmulatedBle } from './emulated-ble-bindings.js';
import { epara, sandbox, type Sandbox } from './helpers.js';

// A file of its own: noble is loaded once per process (src/transport/ble.ts loadNoble), so the
// adapter this test emulates must be the first one the process sees.
let sb: Sandbox | undefined;
afterEach(() => {
  removeEmulatedBle();
  sb?.cleanup();
});

describe('epara serve --ble without an adapter', () => {
  it('stops at start with link.unavailable and a hint', async () => {
    sb = sandbox({ fakeTools: false });
    // An adapter that reports itself unsupported: what noble sees on a host without BLE.
    installEmulatedBle(new EmulatedBleBindings({ peripherals: [], adapterState: 'unsupported' }));
    const r = await epara(['--data-dir', sb.dataDir, 'serve', '--ble', '--json'], { env: sb.env });
    expect(r.code).toBe(1);
    const err = r.json<{ error: { code: string; hint: string } }>().error;
    expect(err.code).toBe('link.unavailable');
    expect(err.hint).toMatch(/adapter/);
    expect(existsSync(join(sb.dataDir, 'serve.json'))).toBe(false);

    process.env.EPARA_BLE_BINDINGS = join(sb.root, 'no-such-module.mjs');
    const missing = await epara(['--data-dir', sb.dataDir, 'serve', '--ble', '--json'], { env: sb.env });
    expect(missing.code).toBe(1);
    expect(missing.json<{ error: { code: string; reason: string } }>().error.reason).toMatch(/EPARA_BLE_BINDINGS/);
  });
});
