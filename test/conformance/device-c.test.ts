/**
 * The kit against the C device library's POSIX example (device-c/examples/posix-device.c), over
 * TCP on 127.0.0.1 and over a socat pty pair. Restarting it is killing the process (-9) and
 * starting it again on the same data directory: deploy.resume-after-restart runs too.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, runConformance, type ConformReport, type DeviceLinks } from '../../src/conformance/index.js';
import { haveSocat, ptyPair } from '../transport/helpers/socat.js';
import { makeDeviceC, missingCompiler, startDevice, type RunningDevice } from '../device-c/device-c-build.js';
import { FAST, failed, newKey, tmpDir } from './helpers.js';

const noCompiler = missingCompiler();
const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let bin = '';
beforeAll(() => {
  if (!noCompiler) bin = join(makeDeviceC('conform', ['example']), 'posix-device');
}, 240_000);

async function conformC(links: DeviceLinks, where: string[], id: string): Promise<ConformReport> {
  cleanups.push(() => links.close());
  const dir = tmpDir(cleanups);
  const key = newKey();
  const keyFile = join(dir, 'key');
  writeFileSync(keyFile, key);
  const args = ['--id', id, '--key-file', keyFile, ...where, '--data-dir', join(dir, 'data')];
  let dev: RunningDevice = startDevice(bin, args);
  cleanups.push(() => dev.stop('SIGKILL'));
  return runConformance(links, {
    id, key, deviceClass: 'mcu', timings: FAST,
    onResult: (x) => x.status !== 'pass' && console.log(`[row ${id}] ${x.status} ${x.id}: ${x.detail}`),
    restart: async () => {
      await dev.stop('SIGKILL');
      dev = startDevice(bin, args);
    },
  });
}

function expectConforms(rep: ConformReport, label: string): void {
  console.log(`[conform] device-c over ${label}: ${rep.summary.passed} passed, ${rep.summary.failed} failed, ${rep.summary.skipped} skipped, ${rep.summary.warnings} warnings in ${rep.durationMs} ms`);
  expect(failed(rep)).toEqual([]);
  expect(rep.results.filter((r) => r.status === 'skip').map((r) => r.id)).toEqual([]);
  expect(rep.ok).toBe(true);
  expect(rep.device).toMatchObject({ deviceClass: 'mcu', formats: ['int8-fc-weights'] });
}

describe.skipIf(noCompiler !== undefined).concurrent('epara conform against the C device library (device-c POSIX example)', () => {
  it('over TCP: every required check passes, none skipped', async () => {
    const links = await openTarget({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    expectConforms(await conformC(links, ['--tcp', `127.0.0.1:${links.port}`], 'c-tcp'), 'TCP');
  }, 60_000);

  it.skipIf(!haveSocat)('over a socat pty pair: every required check passes, none skipped', async () => {
    const pair = await ptyPair();
    cleanups.push(() => pair.kill());
    const links = await openTarget({ kind: 'serial', path: pair.a, baudRate: 115200 });
    expectConforms(await conformC(links, ['--serial', pair.b, '--baud', '115200'], 'c-pty'), 'a pty');
  }, 60_000);
});
