/**
 * The conformance kit (src/conformance, what `epara conform` runs) against the C library's POSIX
 * example device: over TCP on 127.0.0.1 (the kit listens, the device connects, as to a gateway)
 * and over a socat pty pair (the UART path). Every check must pass and none may be skipped but the
 * three of protocol version 2, which the library does not speak (the row says so): the
 * restart hook kills the process with SIGKILL and starts it again on the same data directory, so
 * deploy.resume-after-restart runs too.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openTarget, runConformance, VERSION_2_ONLY, type ConformReport, type DeviceLinks } from '../../src/conformance/index.js';
import { haveSocat, ptyPair } from '../transport/helpers/socat.js';
import { makeDeviceC, missingCompiler, startDevice, type RunningDevice } from './device-c-build.js';

const noCompiler = missingCompiler();
if (!haveSocat) console.warn('[device-c] SKIPPED the conform run over a pty: socat is not installed (apt-get install socat; .ci/run installs it)');
const FAST = { answerMs: 2000, helloMs: 15_000, graceMs: 50, heartbeatMs: 500, stateMs: 500, leaseMs: 30_000 };
const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function conform(name: string, link: (links: DeviceLinks) => Promise<string[]>, target: () => Promise<DeviceLinks>): Promise<{ rep: ConformReport; log: () => string }> {
  const bin = join(makeDeviceC('conform', ['example']), 'posix-device');
  const dir = mkdtempSync(join(tmpdir(), 'epara-device-c-conform-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const key = randomBytes(32).toString('hex');
  writeFileSync(join(dir, 'key'), `${key}\n`, { mode: 0o600 });
  const links = await target();
  cleanups.push(() => links.close());
  const args = ['--id', name, '--key-file', join(dir, 'key'), ...(await link(links)), '--data-dir', join(dir, 'data'), '--timeout-ms', '500', '--retries', '1', '--max-backoff-ms', '1000'];
  let dev: RunningDevice = startDevice(bin, args);
  let log = '';
  cleanups.push(() => dev.stop('SIGKILL'));
  const rep = await runConformance(links, {
    id: name, key, deviceClass: 'mcu', timings: FAST,
    restart: async () => {
      log += dev.log();
      await dev.stop('SIGKILL');
      dev = startDevice(bin, args);
    },
  });
  return { rep, log: () => log + dev.log() };
}

/** The checks of what protocol version 2 adds: the library speaks [1, 1] (EPARA_PROTOCOL_MAX). */
const V2_ONLY = VERSION_2_ONLY;

function expectConforms(rep: ConformReport, log: string): void {
  const bad = rep.results.filter((r) => r.status !== 'pass' && !(r.status === 'skip' && V2_ONLY.includes(r.id))).map((r) => `${r.status} ${r.id}: ${r.detail}`);
  expect(bad, log).toEqual([]);
  expect(rep.ok).toBe(true);
  // skipped only for the version the library does not speak, and the row says so
  const skipped = rep.results.filter((r) => r.status === 'skip');
  expect(skipped.map((r) => r.id).sort()).toEqual([...V2_ONLY].sort());
  for (const r of skipped) expect(r.detail).toMatch(/speaks only protocol version 1\.\.1/);
  expect(rep.results.find((r) => r.id === 'version.negotiated')?.detail).toMatch(/CHALLENGE version 1/);
  expect(rep.summary.passed).toBe(rep.summary.total - V2_ONLY.length);
  expect(rep.device).toMatchObject({ deviceClass: 'mcu', formats: ['int8-fc-weights'] });
}

describe.skipIf(noCompiler !== undefined)('epara conform against the C library POSIX device', () => {
  it('over TCP: every check passes, only the version-2 ones skipped', async () => {
    const { rep, log } = await conform('mcu-c-conform', async (l) => ['--tcp', `127.0.0.1:${l.port}`], () => openTarget({ kind: 'tcp', host: '127.0.0.1', port: 0 }));
    console.log(`[device-c] conform over TCP: ${rep.summary.passed} passed, ${rep.summary.failed} failed, ${rep.summary.skipped} skipped, ${rep.summary.warnings} warnings in ${rep.durationMs} ms`);
    expectConforms(rep, log());
  }, 90_000);

  it.skipIf(!haveSocat)('over a socat pty (the UART path): every check passes, only the version-2 ones skipped', async () => {
    const pty = await ptyPair();
    cleanups.push(() => pty.kill());
    const { rep, log } = await conform('mcu-c-conform-uart', async () => ['--serial', pty.a, '--baud', '115200'], () => openTarget({ kind: 'serial', path: pty.b, baudRate: 115200 }));
    console.log(`[device-c] conform over a pty: ${rep.summary.passed} passed, ${rep.summary.failed} failed, ${rep.summary.skipped} skipped, ${rep.summary.warnings} warnings in ${rep.durationMs} ms`);
    expectConforms(rep, log());
  }, 90_000);
});
