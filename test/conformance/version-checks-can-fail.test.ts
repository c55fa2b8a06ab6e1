/**
 * The version checks can fail. The TypeScript emulator (a real EparaDevice over TCP) is made to
 * get the version wrong in the one place it is applied, FrameLink.setNegotiated:
 * - a device that announces [1, 2] but keeps its link at version 1 after CHALLENGE 2 ignores the
 *   pipeline key, so a pipeline index past count gets PLACEMENT_ACK where ERROR 113 is due;
 * - a device that runs its link at version 2 whatever CHALLENGE said sends memKiB / busyUs in a
 *   version-1 session, which §8 forbids.
 * Without the fault the same run passes every version check (the control run).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openTarget, runConformance, type ConformReport } from '../../src/conformance/index.js';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { FrameLink } from '../../src/transport/frame-link.js';
import { EMULATOR_DEVICE, FAST, newKey, tmpDir } from './helpers.js';

type Fault = 'none' | 'link-stays-at-1' | 'link-always-at-2';
let fault: Fault = 'none';
const setNegotiated = FrameLink.prototype.setNegotiated;
// the kit's side is not a FrameLink (src/conformance/peer.ts), so only the device is affected
FrameLink.prototype.setNegotiated = function (this: FrameLink, n: Parameters<FrameLink['setNegotiated']>[0]) {
  if (n.protocolVersion !== undefined && fault === 'link-stays-at-1') n = { ...n, protocolVersion: undefined };
  if (n.protocolVersion !== undefined && fault === 'link-always-at-2') n = { ...n, protocolVersion: 2 };
  setNegotiated.call(this, n);
};

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  FrameLink.prototype.setNegotiated = setNegotiated;
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function run(f: Fault): Promise<Map<string, ConformReport['results'][number]>> {
  fault = f;
  const links = await openTarget({ kind: 'tcp', host: '127.0.0.1', port: 0 });
  cleanups.push(() => links.close());
  const key = newKey();
  const id = `emu-version-${f}`;
  let dev: EmulatedDevice | undefined;
  void EmulatedDevice.start({ profile: 'mcu', id, key, dataDir: tmpDir(cleanups), timeScale: 0, connector: () => connectTcp({ host: '127.0.0.1', port: links.port! }), device: EMULATOR_DEVICE }).then((d) => (dev = d), () => undefined);
  cleanups.push(async () => dev?.close({ graceful: false }));
  // the families that do not touch versions are left out; deploy stays, so STATE lists a service
  const rep = await runConformance(links, { id, key, deviceClass: 'mcu', timings: FAST, skip: ['handshake', 'auth', 'framing', 'vectors', 'ping', 'rtx', 'heartbeat', 'state', 'bye', 'infer'] });
  console.log(`[conform] ${f}:\n${rep.results.filter((r) => r.family === 'version').map((r) => `  ${r.status} ${r.id}: ${r.detail}`).join('\n')}`);
  return new Map(rep.results.map((r) => [r.id, r]));
}

describe('the version checks fail a device that gets the negotiated version wrong', () => {
  it('control: the device as it is passes every version check', async () => {
    const rows = await run('none');
    for (const id of ['version.negotiated', 'version.state-v2-keys', 'version.placement-pipeline', 'version.pipeline-index-refused', 'version.v1-session']) {
      expect(rows.get(id)?.status, `${id}: ${rows.get(id)?.detail}`).toBe('pass');
    }
    expect(rows.get('version.negotiated')?.detail).toMatch(/HELLO proto 1\.\.2, kit 1\.\.2: CHALLENGE version 2/);
    expect(rows.get('version.v1-session')?.detail).toMatch(/CHALLENGE version 1 to a device that also speaks 2: AUTH and WELCOME; \d+ STATEs, [1-9]\d* service entries, none with/);
    // the deployed service is listed, so the keys were there to be seen (and left out at version 1)
    expect(rows.get('version.state-v2-keys')?.detail).toMatch(/service entries: memKiB in [1-9]\d*, busyUs in [1-9]/);
  }, 60_000);

  it('a link left at version 1 after CHALLENGE 2: the pipeline index past count is not refused', async () => {
    const rows = await run('link-stays-at-1');
    expect(rows.get('version.pipeline-index-refused')?.status).toBe('fail');
    expect(rows.get('version.pipeline-index-refused')?.detail).toMatch(/answered with PLACEMENT_ACK where ERROR 113 msg\.schema is due/);
  }, 60_000);

  it('a link at version 2 in a version-1 session: STATE carries version-2 keys', async () => {
    const rows = await run('link-always-at-2');
    expect(rows.get('version.v1-session')?.status).toBe('fail');
    expect(rows.get('version.v1-session')?.detail).toMatch(/in a version-1 session STATE service \S+ carries (memKiB|busyUs)/);
  }, 60_000);
});
