/**
 * `epara/emulation` is a package entry (issue 16, item 6): a gateway developer's test imports the
 * emulators by name and runs a fleet against its own server, and src/ reaches them only that way
 * (never `../firmware-sims`, which a packed install would not resolve the same).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import * as emulation from 'epara/emulation';
import { EmulatedDevice, PROFILE_NAMES, VirtualClock, emulatedSerialPair, startFleet } from 'epara/emulation';
import { cleanupList, startServer, tmpDir, until } from './helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cleanups = cleanupList();
afterEach(() => cleanups.run());

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('epara/emulation', () => {
  it('is in the exports map with types, at the build output of firmware-sims/index.ts', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { types?: string; default?: string }> };
    expect(pkg.exports['./emulation']).toEqual({ types: './dist/firmware-sims/index.d.ts', default: './dist/firmware-sims/index.js' });
    expect(Object.keys(emulation)).toEqual(expect.arrayContaining(['startFleet', 'EmulatedDevice', 'PROFILES', 'runDemo', 'emulatedSerialPair', 'VirtualClock', 'Int8FcModel']));
    expect(PROFILE_NAMES).toEqual(['gpu-server', 'embedded-gpu', 'microcomputer', 'mcu', 'fpga']);
    expect(typeof EmulatedDevice.start).toBe('function');
    expect(typeof new VirtualClock().now).toBe('function');
    const pair = emulatedSerialPair({ baud: 115_200 });
    expect(pair).toHaveLength(3);
    await Promise.all([pair[0].close(), pair[1].close()]);
  });

  it('is how src/ reaches the emulators: no relative import of firmware-sims', () => {
    const offenders = sourceFiles(join(root, 'src')).filter((f) => /from\s+['"](\.\.?\/)+firmware-sims\//.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });

  it("runs an emulated fleet against the test's own server", async () => {
    const server = await startServer(cleanups);
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    const fleet = await startFleet({
      devices: 'microcomputer:2',
      server: { host: '127.0.0.1', port },
      provision: (id, deviceClass) => server.provision({ id, deviceClass }),
      dataDir: tmpDir(cleanups),
      seed: 3,
      timeScale: 0,
    });
    cleanups.add(() => fleet.close());
    await until(() => server.devices().filter((d) => d.state === 'registered' || d.state === 'active').length === 2, 10_000, 'both devices registered');
    expect(server.devices().map((d) => d.id).sort()).toEqual(['microcomputer-1', 'microcomputer-2']);
  });
});
