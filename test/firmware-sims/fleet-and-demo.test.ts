import { afterEach, describe, expect, it } from 'vitest';
import { parseFleetSpec, planFleet, startFleet } from '../../firmware-sims/fleet.js';
import { runDemo } from '../../firmware-sims/demo.js';
import { ConfigError } from '../../src/errors.js';
import { join } from 'node:path';
import { findFixtureModels } from '../../firmware-sims/demo.js';
import { cleanupList, startServer, tmpDir, until } from './helpers.js';
import { tensorFrom } from '../../src/protocol/index.js';

const cleanups = cleanupList();
afterEach(() => cleanups.run());

describe('fleet runner', () => {
  it('parses specs and rejects typos with the list of profiles', () => {
    expect(parseFleetSpec('gpu-server:1, microcomputer:3,mcu')).toEqual([
      { profile: 'gpu-server', count: 1 },
      { profile: 'microcomputer', count: 3 },
      { profile: 'mcu', count: 1 },
    ]);
    const e = (() => {
      try {
        parseFleetSpec('raspberry:2');
      } catch (x) {
        return x as ConfigError;
      }
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect(e!.hint).toContain('microcomputer');
    expect(() => parseFleetSpec('mcu:0')).toThrow(ConfigError);
    expect(() => parseFleetSpec('')).toThrow(ConfigError);
  });

  it('plans the same ids and seeds for the same seed, different seeds for another', () => {
    const g = parseFleetSpec('microcomputer:2,gpu-server:1');
    const a = planFleet(g, 42);
    expect(planFleet(g, 42)).toEqual(a);
    expect(a.map((d) => d.id)).toEqual(['microcomputer-1', 'microcomputer-2', 'gpu-server-1']);
    expect(new Set(a.map((d) => d.seed)).size).toBe(3);
    expect(planFleet(g, 43).map((d) => d.seed)).not.toEqual(a.map((d) => d.seed));
  });

  it('starts a mixed fleet against a live server; every device registers, gets a model and serves', async () => {
    const server = await startServer(cleanups, { deploy: { chunkSize: 512 } });
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    const fleet = await startFleet({
      devices: 'microcomputer:2,embedded-gpu:1,mcu:1',
      server: { host: '127.0.0.1', port },
      provision: (id, deviceClass) => server.provision({ id, deviceClass }),
      dataDir: tmpDir(cleanups),
      seed: 9,
      timeScale: 0,
      behaviours: { 'microcomputer-2': { dropEveryNthChunk: 4 } },
    });
    cleanups.add(() => fleet.close());
    expect(fleet.devices.map((d) => d.id)).toEqual(['microcomputer-1', 'microcomputer-2', 'embedded-gpu-1', 'mcu-1']);
    expect(server.devices().filter((d) => d.state === 'registered' || d.state === 'active').length).toBe(4);
    const ids = fleet.devices.map((d) => d.id);
    const recs = await server.deploy({ artifact: join(findFixtureModels(), 'mlp-classifier.onnx'), service: 'cls', version: '1', kind: 'onnx', category: 'latency-single', to: ids, timeoutMs: 30_000 });
    expect(recs.map((r) => r.state)).toEqual(['ready', 'ready', 'ready', 'ready']);
    await until(() => server.candidates('cls').length === 4);
    for (const id of ids) {
      const r = await server.infer('cls', [tensorFrom('input', new Float32Array(16).fill(0.1), [1, 16])], { deadlineMs: 5000, deviceId: id });
      expect(r.deviceId).toBe(id);
    }
    expect(fleet.devices[1]!.chunksDropped).toBeGreaterThan(0);
  });
});

describe('runDemo', () => {
  it('starts a server and a fleet that registers, deploys real models and answers inference, and says so', async () => {
    const lines: string[] = [];
    const code = await runDemo({ out: (l) => lines.push(l), devices: 2, seed: 3 });
    const text = lines.join('\n');
    expect(code, text).toBe(0);
    expect(lines.filter((l) => l.includes('registered  ')).length).toBe(2);
    expect(text).toMatch(/deploy {6}classifier@1\.0\.0 → microcomputer-1\s+ready/);
    expect(text).toMatch(/infer {7}classifier pinned\s+→ microcomputer-1\s+class \d/);
    expect(text).toMatch(/infer {7}llm → embedded-gpu-1: prompt \[3 14 15 9 2 6 5 3\] generated \[(\d+ ){7}\d+\]/);
    // The segmentation mask is printed as a picture and marks the bright square.
    expect(lines.filter((l) => l.includes('→   ') && /[#.]{8}$/.test(l)).length).toBe(8);
    // A few-MB model fits no device's 2 MiB model memory: the placement round splits it, bit-exact (issue 17 §3, §6).
    expect(text).toMatch(/pipeline wide-mlp 2 stages: \S+ → \S+/);
    expect(text).toMatch(/pipeline {4}wide-mlp: 3 requests through 2 stages .*: 3\/3 bit-exact against the whole model/);
    expect(text).toMatch(/done: 2 devices registered .* 4 deployments ready, \d+ inference requests answered/);
  });

  it('refuses a device count outside 1..12 with exit code 2', async () => {
    const lines: string[] = [];
    expect(await runDemo({ out: (l) => lines.push(l), devices: 0 })).toBe(2);
    expect(lines[0]).toContain('config.range');
  });
});
