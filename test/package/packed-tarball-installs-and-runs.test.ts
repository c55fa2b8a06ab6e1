/**
 * What a new user gets from `npm install epara`: the packed tarball installed into fresh apps in
 * the system temp directory (outside the checkout: the project's .npmrc, allowScripts and
 * overrides do not apply, and npm's own npm_config_* variables are removed from the environment),
 * from the npm registry as a user would. A gateway app (TCP/serial, no model) must install without
 * onnxruntime-node, noble or any native build; its TypeScript importing epara, epara/client,
 * epara/transport and epara/emulation must typecheck under moduleResolution nodenext, node16,
 * bundler and node10 with skipLibCheck off, run (server, TCP device, deploy, infer), load through
 * require(esm), and `epara sim` must find its bundled trace. A device app adds onnxruntime-node as
 * the README says, serves a real ONNX model and runs `epara demo`.
 *
 * Run by `npm run test:package` (called from .ci/run). Skipped, with the reason printed, when the
 * npm registry cannot be reached.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The environment of a user's shell: no npm_config_* from a parent `npm run`, no ORT switch. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || /^ONNXRUNTIME_NODE_INSTALL/i.test(k) || /^VITEST/.test(k) || k === 'NODE_OPTIONS' || k === 'INIT_CWD') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], cwd: string, opts: { env?: Record<string, string>; timeoutMs?: number } = {}): SpawnSyncReturns<string> & { out: string } {
  const r = spawnSync(cmd, args, { cwd, env: userEnv(opts.env), encoding: 'utf8', timeout: opts.timeoutMs ?? 180_000, maxBuffer: 64 * 1024 * 1024 });
  return Object.assign(r, { out: `${r.stdout ?? ''}${r.stderr ?? ''}` });
}

const work = mkdtempSync(join(tmpdir(), 'epara-package-'));
const ping = run('npm', ['ping', '--fetch-timeout=15000', '--fetch-retries=0'], work, { timeoutMs: 30_000 });
const skipReason = ping.status === 0 ? '' : `the npm registry is unreachable (npm ping: ${(ping.out.trim().split('\n').pop() ?? ping.error?.message ?? 'no answer').slice(0, 160)})`;
if (skipReason) console.warn(`packed-tarball test skipped: ${skipReason}`);

const NPM_INSTALL = ['install', '--no-audit', '--no-fund', '--foreground-scripts', '--prefer-offline'];

function findAll(dir: string, name: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === name) out.push(p);
      findAll(p, name, out);
    }
  }
  return out;
}

function filesUnder(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) filesUnder(p, out);
    else out.push(p);
  }
  return out;
}

// The gateway app: TypeScript, ESM, strict, with every public entry point and a real run.
const GATEWAY_APP = `
import { EparaError, EparaServer, tensorFrom, tensorValues } from 'epara';
import { EparaDevice, OnnxModel } from 'epara/client';
import { connectBle, connectTcp } from 'epara/transport';
import { BASYS3_FC_DIMS, EmulatedDevice, Int8FcModel, int8FcArtifact } from 'epara/emulation';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function refusal(p: Promise<unknown>): Promise<{ code: string; hint: string; reason: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EparaError) return { code: e.code, hint: e.hint ?? '', reason: e.reason };
    return { code: 'not-an-EparaError', hint: String(e), reason: '' };
  }
  return { code: 'resolved', hint: '', reason: '' };
}

const root = mkdtempSync(join(tmpdir(), 'epara-gateway-app-'));
const server = new EparaServer({ dataDir: join(root, 'server'), periods: { stateSyncMs: 200, heartbeatMs: 1000 } });
await server.start();
const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
const { key } = server.provision({ id: 'fpga-1', deviceClass: 'fpga' });
const fpga = await EmulatedDevice.start({ profile: 'fpga', id: 'fpga-1', key, connector: () => connectTcp({ host: '127.0.0.1', port }), dataDir: join(root, 'fpga-1'), timeScale: 0 });
const weights = Int8Array.from({ length: BASYS3_FC_DIMS.inputs * BASYS3_FC_DIMS.outputs }, (_, i) => ((i * 37) % 256) - 128);
const bias = Int32Array.from([100, -200, 300, -400]);
const artifact = int8FcArtifact(weights, bias);
const records = await server.deploy({ artifact, service: 'fc', version: '1', kind: 'int8-fc-weights', category: 'latency-single', to: ['fpga-1'], timeoutMs: 30_000 });
const until = Date.now() + 10_000;
while (server.candidates('fc').length < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
const x = Int8Array.from({ length: BASYS3_FC_DIMS.inputs }, (_, i) => (i * 13) % 50 - 25);
const answer = await server.infer('fc', [tensorFrom('x', x, [BASYS3_FC_DIMS.inputs])], { deadlineMs: 5000 });
const scores = Array.from(tensorValues(answer.outputs.find((o) => o.name === 'scores')!) as Int32Array);
const expected = Array.from(new Int8FcModel(artifact).infer(x).scores);

// The optional peers are absent in a gateway app: typed errors that say how to add them.
const ort = await refusal(OnnxModel.load(new Uint8Array(8)));
const ble = await refusal(connectBle({ timeoutMs: 500 }));
const mqtt = await refusal(new EparaServer({ dataDir: join(root, 'mqtt'), mqtt: { url: 'mqtt://127.0.0.1:1' } }).start());

await fpga.close();
await server.close();
console.log(JSON.stringify({ deploy: records.map((r) => r.state), deviceId: answer.deviceId, scores, expected, ort, ble, mqtt, deviceClass: typeof EparaDevice }));
`;

// The same entry points through moduleResolution node10 (no top-level await: module commonjs).
const NODE10_APP = `
import { EparaServer } from 'epara';
import { EparaDevice } from 'epara/client';
import { connectTcp } from 'epara/transport';
import { EmulatedDevice } from 'epara/emulation';
import type { Tensor } from 'epara/protocol';
const t: Tensor = { name: 'x', dtype: 'int8', shape: [1], data: new Uint8Array(1) };
export const used = [EparaServer, EparaDevice, connectTcp, EmulatedDevice, t];
`;

const CJS_APP = `
const epara = require('epara');
const client = require('epara/client');
const transport = require('epara/transport');
const emulation = require('epara/emulation');
const protocol = require('epara/protocol');
const conformance = require('epara/conformance');
console.log(JSON.stringify({ server: typeof epara.EparaServer, device: typeof client.EparaDevice, tcp: typeof transport.connectTcp, emulated: typeof emulation.EmulatedDevice, entries: Object.keys(protocol).length > 0 && Object.keys(conformance).length > 0 }));
`;

// The device app: plain JS, onnxruntime-node added as the README says, a real model end to end.
const DEVICE_APP = `
import { EparaServer, tensorFrom, tensorValues } from 'epara';
import { EparaDevice } from 'epara/client';
import { connectTcp } from 'epara/transport';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const model = join(createRequire(import.meta.url).resolve('epara/package.json'), '..', 'fixtures', 'models', 'mlp-classifier.onnx');
const root = mkdtempSync(join(tmpdir(), 'epara-device-app-'));
const server = new EparaServer({ dataDir: join(root, 'server'), periods: { stateSyncMs: 200, heartbeatMs: 1000 } });
await server.start();
const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
const { key } = server.provision({ id: 'pi-1', deviceClass: 'microcomputer' });
const device = await EparaDevice.connect({ connector: () => connectTcp({ host: '127.0.0.1', port }), id: 'pi-1', key, deviceClass: 'microcomputer', dataDir: join(root, 'pi-1') });
const records = await server.deploy({ artifact: model, service: 'classifier', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-1'], timeoutMs: 30_000 });
const until = Date.now() + 10_000;
while (server.candidates('classifier').length < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
const x = Float32Array.from({ length: 16 }, (_, i) => i / 10 - 0.8);
const r = await server.infer('classifier', [tensorFrom('input', x, [1, 16])], { deadlineMs: 5000 });
const logits = Array.from(tensorValues(r.outputs.find((o) => o.name === 'logits')));
const cls = Number(tensorValues(r.outputs.find((o) => o.name === 'class'))[0]);
await device.close();
await server.close();
console.log(JSON.stringify({ deploy: records.map((d) => d.state), deviceId: r.deviceId, logits, cls }));
`;

const tsconfig = (compilerOptions: Record<string, unknown>, files: string[]) =>
  JSON.stringify({ compilerOptions: { strict: true, skipLibCheck: false, target: 'ES2022', lib: ['ES2022'], types: ['node'], ...compilerOptions }, files }, null, 2);

describe.skipIf(skipReason !== '')('npm install of the packed tarball', () => {
  let tarball = '';
  const gw = join(work, 'gateway-app');
  const dev = join(work, 'device-app');
  let gwInstall: ReturnType<typeof run>;
  let devInstall: ReturnType<typeof run>;

  beforeAll(() => {
    expect(existsSync(join(ROOT, 'dist', 'src', 'index.js')), 'dist/ is missing: npm run build first').toBe(true);
    // The build is what `npm ci` (prepare) made; packing must not rebuild it.
    const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
    expect(pack.status, pack.out).toBe(0);
    tarball = join(work, (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0]!.filename);

    for (const [dir, name] of [[gw, 'gateway-app'], [dev, 'device-app']] as const) {
      rmSync(dir, { recursive: true, force: true });
      spawnSync('mkdir', ['-p', dir]);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }, null, 2));
    }
    gwInstall = run('npm', [...NPM_INSTALL, tarball, 'typescript@5.9', '@types/node@20'], gw);
    devInstall = run('npm', [...NPM_INSTALL, tarball, 'onnxruntime-node@1.30'], dev, { env: { ONNXRUNTIME_NODE_INSTALL: 'skip' } });
  }, 300_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('a gateway app installs with no optional peer, no native build and no engine warning', () => {
    expect(gwInstall.status, gwInstall.out).toBe(0);
    const nm = join(gw, 'node_modules');
    for (const absent of ['onnxruntime-node', '@abandonware/noble', '@abandonware/bluetooth-hci-socket', 'better-sqlite3']) {
      expect(existsSync(join(nm, absent)), `${absent} was installed`).toBe(false);
    }
    // node-gyp would print "gyp info"; prebuild-install would try a download.
    expect(gwInstall.out).not.toMatch(/gyp (info|ERR)|prebuild-install|node-pre-gyp/);
    expect(gwInstall.out).not.toMatch(/EBADENGINE/);
    const extracts = findAll(nm, 'cbor-extract').filter((p) => existsSync(join(p, 'package.json')));
    expect(extracts.map((p) => relative(nm, p))).toEqual(['cbor-extract']);
    expect((JSON.parse(readFileSync(join(nm, 'cbor-extract', 'package.json'), 'utf8')) as { version: string }).version).toBe('2.2.2');
    expect(existsSync(join(nm, 'cbor-extract', 'build')), 'cbor-extract was compiled').toBe(false);
    expect((JSON.parse(readFileSync(join(nm, 'light-my-request', 'package.json'), 'utf8')) as { version: string }).version).toBe('6.6.0');
  });

  it('ships docs/ and data/, and neither dist/.tsbuildinfo nor source maps', () => {
    const pkg = join(gw, 'node_modules', 'epara');
    for (const f of ['docs/cli.md', 'docs/server.md', 'docs/conformance.md', 'docs/scheduling.md', 'data/azure-llm-2023/AzureLLMInferenceTrace_conv.csv', 'fixtures/models/mlp-classifier.onnx']) {
      expect(existsSync(join(pkg, f)), f).toBe(true);
    }
    const files = filesUnder(pkg).map((f) => relative(pkg, f));
    expect(files.filter((f) => f.endsWith('.map') || f.endsWith('.tsbuildinfo'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
  });

  it('typechecks an app importing every entry point under nodenext, node16, bundler and node10', () => {
    writeFileSync(join(gw, 'app.ts'), GATEWAY_APP);
    writeFileSync(join(gw, 'node10.ts'), NODE10_APP);
    writeFileSync(join(gw, 'tsconfig.nodenext.json'), tsconfig({ module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out' }, ['app.ts']));
    writeFileSync(join(gw, 'tsconfig.node16.json'), tsconfig({ module: 'node16', moduleResolution: 'node16', noEmit: true }, ['app.ts']));
    writeFileSync(join(gw, 'tsconfig.bundler.json'), tsconfig({ module: 'esnext', moduleResolution: 'bundler', noEmit: true }, ['app.ts']));
    writeFileSync(join(gw, 'tsconfig.node10.json'), tsconfig({ module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true, noEmit: true }, ['node10.ts']));
    for (const mode of ['nodenext', 'node16', 'bundler', 'node10']) {
      const tsc = run(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', `tsconfig.${mode}.json`], gw);
      expect(tsc.status, `moduleResolution ${mode}:\n${tsc.out}`).toBe(0);
    }
  });

  it('runs the gateway app: server, TCP device, deploy, infer; missing optional peers are typed errors with a hint', () => {
    const app = run(process.execPath, ['out/app.js'], gw, { timeoutMs: 90_000 });
    expect(app.status, app.out).toBe(0);
    const r = JSON.parse(app.stdout.trim().split('\n').pop()!) as {
      deploy: string[]; deviceId: string; scores: number[]; expected: number[]; ort: { code: string; hint: string }; ble: { code: string; hint: string }; mqtt: { code: string; hint: string }; deviceClass: string;
    };
    expect(r.deploy).toEqual(['ready']);
    expect(r.deviceId).toBe('fpga-1');
    expect(r.scores).toEqual(r.expected);
    expect(r.ort.code).toBe('infer.runtime');
    expect(r.ort.hint).toContain('npm install onnxruntime-node@1.30');
    expect(r.ble.code).toBe('link.unavailable');
    expect(r.ble.hint).toContain('npm install @abandonware/noble');
    expect(r.mqtt.code).toBe('mqtt.client_missing');
    expect(r.mqtt.hint).toContain('npm install mqtt@5');
    expect(r.deviceClass).toBe('function');
  });

  it('loads from CommonJS through require(esm) on this Node (engines: >=20.19)', () => {
    writeFileSync(join(gw, 'check.cjs'), CJS_APP);
    const cjs = run(process.execPath, ['check.cjs'], gw);
    expect(cjs.status, cjs.out).toBe(0);
    expect(JSON.parse(cjs.stdout.trim().split('\n').pop()!)).toEqual({ server: 'function', device: 'function', tcp: 'function', emulated: 'function', entries: true });
    const engines = (JSON.parse(readFileSync(join(gw, 'node_modules', 'epara', 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe('>=20.19');
  });

  it('the installed epara command finds its docs and its bundled trace', () => {
    const help = run(join(gw, 'node_modules', '.bin', 'epara'), ['--help'], gw);
    expect(help.status, help.out).toBe(0);
    for (const doc of help.out.match(/docs\/[a-z-]+\.md/g) ?? []) expect(existsSync(join(gw, 'node_modules', 'epara', doc)), doc).toBe(true);
    const sim = run(join(gw, 'node_modules', '.bin', 'epara'), ['sim', '--loads', '1', '--duration', '20', '--policies', 'epara', '--json', '--out', join(work, 'sim-out')], gw, { timeoutMs: 120_000 });
    expect(sim.status, sim.out).toBe(0);
    expect(sim.out).not.toContain('ENOENT');
    // The demo runs ONNX models: without the optional runtime it says so once, up front.
    const demo = run(join(gw, 'node_modules', '.bin', 'epara'), ['demo', '--devices', '1'], gw, { timeoutMs: 60_000 });
    expect(demo.status, demo.out).toBe(1);
    expect(demo.out).toMatch(/infer\.runtime.*onnxruntime-node is not installed/);
    expect(demo.out).toContain('npm install onnxruntime-node@1.30');
  });

  it('a device app adds onnxruntime-node as the README says, serves a real ONNX model and runs epara demo', () => {
    expect(devInstall.status, devInstall.out).toBe(0);
    expect(devInstall.out).not.toMatch(/gyp (info|ERR)|prebuild-install|nuget/i);
    writeFileSync(join(dev, 'device.mjs'), DEVICE_APP);
    const app = run(process.execPath, ['device.mjs'], dev, { timeoutMs: 90_000 });
    expect(app.status, app.out).toBe(0);
    const r = JSON.parse(app.stdout.trim().split('\n').pop()!) as { deploy: string[]; deviceId: string; logits: number[]; cls: number };
    expect(r.deploy).toEqual(['ready']);
    expect(r.deviceId).toBe('pi-1');
    expect(r.logits.length).toBeGreaterThan(1);
    expect(r.cls).toBe(r.logits.indexOf(Math.max(...r.logits)));
    const demo = run(join(dev, 'node_modules', '.bin', 'epara'), ['demo', '--devices', '2'], dev, { timeoutMs: 90_000 });
    expect(demo.status, demo.out).toBe(0);
    expect(demo.out).toMatch(/done: 2 devices registered/);
  });
});
