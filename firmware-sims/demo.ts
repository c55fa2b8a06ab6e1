/**
 * The README demo (`epara demo`): a real EparaServer on 127.0.0.1, an emulated fleet that
 * registers over TCP, receives real ONNX models over the go-back-N deployment protocol, and
 * answers real inference requests (onnxruntime-node) at its profiles' modelled pace.
 * Everything runs in a temporary data directory that is removed at the end.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { EparaError } from '../src/errors.js';
import { tensorFrom, tensorValues, type Tensor } from '../src/protocol/index.js';
import { EparaServer } from '../src/server-adapter/server.js';
import { checkOnnxRuntime } from '../src/client/onnx-runtime.js';
import { inferError } from '../src/client/client-errors.js';
import { startFleet, type Fleet } from './fleet.js';
import { int8FcArtifact } from '../src/conformance/int8-fc-model.js';
import { emulatedSerialPair } from './links/serial-link.js';
import { connectTcp } from '../src/transport/tcp.js';
import type { ByteStream } from '../src/transport/byte-stream.js';
import { mulberry32 } from './links/prng.js';
import { serviceTimeMs, type ProfileName } from './profiles.js';
import { DEMO_MODEL_MEMORY_KIB } from './demo-pipeline-step.js';
import { DEMO_STEPS, placeAndShow, routeText, showServices, type DemoContext } from './demo-steps.js';
import type { Category } from '../src/scheduler/types.js';
import type { DeployOptions } from '../src/server-adapter/server.js';

export interface DemoOptions {
  out?: (line: string) => void;
  /** Emulated devices (1..12, default 4), profiles cycling microcomputer, embedded-gpu, gpu-server, fpga. */
  devices?: number;
  seed?: number;
}

const CYCLE: ProfileName[] = ['microcomputer', 'embedded-gpu', 'gpu-server', 'fpga'];

/** fixtures/models from source (firmware-sims/) or from the build (dist/firmware-sims/). */
export function findFixtureModels(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'fixtures', 'models');
    if (existsSync(join(candidate, 'mlp-classifier.onnx'))) return candidate;
    dir = dirname(dir);
  }
  throw new EparaError({ code: 'internal', reason: 'fixtures/models/*.onnx not found next to the package', hint: 'run from a checkout or an installed package that ships fixtures/ (npx tsx scripts/gen-models.ts regenerates them)' });
}

const kib = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(0)} GiB` : n >= 1024 ? `${(n / 1024).toFixed(0)} MiB` : `${n} KiB`);
const ms = (us: number | undefined) => (us === undefined ? '?' : (us / 1000).toFixed(1));

async function until(ok: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!ok() && performance.now() < end) await new Promise((r) => setTimeout(r, 50));
}

function argmax(v: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
}

export async function runDemo(opts: DemoOptions = {}): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const n = opts.devices ?? 4;
  if (!Number.isInteger(n) || n < 1 || n > 12) {
    out(`error config.range: devices=${n} is outside 1..12\n  hint: run the demo with 1 to 12 devices`);
    return 2;
  }
  const seed = opts.seed ?? 7;
  const rand = mulberry32(seed);
  const root = mkdtempSync(join(tmpdir(), 'epara-demo-'));
  let server: EparaServer | undefined;
  let fleet: Fleet | undefined;
  const t0 = performance.now();
  let answered = 0;
  const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(2).padStart(5)}s]`;
  const say = (l: string) => out(`${stamp()} ${l}`);
  try {
    const models = findFixtureModels();
    // onnxruntime-node is an optional peer dependency: without it every ONNX deployment would fail
    // one by one; say so once, before anything starts.
    await checkOnnxRuntime().catch((e: unknown) => {
      throw inferError('infer.runtime', {
        reason: `epara demo runs real ONNX models on its emulated devices, and ${e instanceof EparaError ? e.reason : 'onnxruntime-node cannot be loaded'}`,
        hint: 'install it beside epara: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.30 (or run epara sim, which needs no runtime)',
        cause: e,
      });
    });
    // The EPARA scheduler (the default); the demo runs its placement rounds on cue rather than every 60 s.
    server = new EparaServer({ dataDir: join(root, 'server'), scheduler: 'epara', periods: { stateSyncMs: 300, heartbeatMs: 1000, placementMs: 3_600_000 }, deploy: { chunkSize: 1024 } });
    await server.start();
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    say(`server listening on 127.0.0.1:${port} (registry in a temporary directory), scheduler ${server.scheduler.name}`);

    server.on('device-registered', (d) => {
      const caps = (d.caps ?? {}) as { cpuCores?: number; memoryKiB?: number; gpuCount?: number; accelerators?: string[] };
      const gpu = caps.gpuCount ? `, ${caps.gpuCount} GPU` : '';
      say(`registered  ${d.id.padEnd(16)} ${d.deviceClass.padEnd(13)} ${caps.cpuCores ?? '?'} cores, ${kib(caps.memoryKiB ?? 0)}${gpu}${d.resumed ? ' (resumed)' : ''}`);
    });
    const lastShown = new Map<number, string>();
    server.on('deployment-progress', (p) => {
      const pct = p.size ? Math.floor((100 * p.offset) / p.size) : 0;
      // One line per state change, plus the half-way mark of the transfer: readable, not a flood.
      const key = p.state === 'transferring' ? `transferring-${pct >= 50 ? 'half' : 'start'}` : p.state;
      if (lastShown.get(p.deploymentId) === key) return;
      lastShown.set(p.deploymentId, key);
      const what = `${p.service}@${p.version} → ${p.deviceId}`;
      if (p.state === 'transferring') say(`deploy      ${what.padEnd(40)} ${String(p.offset).padStart(6)}/${p.size} bytes (${pct}%)${p.resumedFrom ? `, resumed at ${p.resumedFrom}` : ''}`);
      else say(`deploy      ${what.padEnd(40)} ${p.state}${p.errorCode ? ` (${p.errorCode})` : ''}`);
    });

    const profiles = Array.from({ length: n }, (_, i) => CYCLE[i % CYCLE.length]!);
    const counts = new Map<ProfileName, number>();
    for (const p of profiles) counts.set(p, (counts.get(p) ?? 0) + 1);
    say(`starting ${n} emulated device${n === 1 ? '' : 's'}: ${[...counts].map(([p, c]) => `${c}× ${p}`).join(', ')} (seed ${seed})`);
    fleet = await startFleet({
      devices: [...counts].map(([profile, count]) => ({ profile, count })),
      // The FPGA sits behind an HC-05: an emulated 9600-baud Bluetooth SPP line; the rest use TCP.
      connector: (_i, _id, profile) =>
        profile === 'fpga'
          ? async (): Promise<ByteStream> => {
              const [dev, srv] = emulatedSerialPair({ baud: 9600, kind: 'spp', latencyMs: 20, seed });
              server!.attachStream(srv);
              return dev;
            }
          : () => connectTcp({ host: '127.0.0.1', port }),
      provision: (id, deviceClass) => server!.provision({ id, deviceClass }),
      dataDir: join(root, 'devices'),
      seed,
      timeScale: 1,
      concurrency: 2,
      // A model-memory budget per device, so the demo's few-MB model must be split (demo-pipeline-step.ts).
      device: { modelMemoryKiB: DEMO_MODEL_MEMORY_KIB },
    });
    // ONNX runs on everything but the FPGA, which takes int8 FC weights.
    const onnxDevices = fleet.devices.filter((d) => d.profile.caps.formats?.includes('onnx'));
    const fpgas = fleet.devices.filter((d) => d.profile.caps.formats?.includes('int8-fc-weights'));
    const ids = onnxDevices.map((d) => d.id);

    // 1. The classifier everywhere.
    // Each deployment declares its service to the scheduler: category, SLO or frame rate, demand.
    type Planned = { service: string; version: string; file: string; to: string[]; category: Category; declare?: Pick<DeployOptions, 'sloMs' | 'fps' | 'demandRps' | 'workload'> };
    const deployments: Planned[] = [];
    if (ids.length) deployments.push({ service: 'classifier', version: '1.0.0', file: 'mlp-classifier.onnx', to: ids, category: 'latency-single', declare: { sloMs: 200 } });
    // 2. Segmentation on the GPU-class devices (or wherever there are no GPUs).
    const gpuIds = onnxDevices.filter((d) => d.profile.caps.gpuCount).map((d) => d.id);
    if (ids.length) deployments.push({ service: 'segmentation', version: '1.0.0', file: 'conv-segmenter.onnx', to: gpuIds.length ? gpuIds : [ids[0]!], category: 'frequency-single', declare: { fps: 10 } });
    // 3. The token model (the LLM case) on the strongest device.
    const strongest = onnxDevices.filter((d) => Number.isFinite(serviceTimeMs(d.profile, 'llm'))).sort((a, b) => b.profile.caps.computeMops - a.profile.caps.computeMops)[0];
    if (strongest) deployments.push({ service: 'llm', version: '1.0.0', file: 'token-decoder.onnx', to: [strongest.id], category: 'latency-single', declare: { sloMs: 1000, workload: 'llm' } });

    // 4. int8 FC weights (seeded) for the FPGA endpoints.
    const fcWeights = Int8Array.from({ length: 64 }, () => rand.int(256) - 128);
    const fcBias = Int32Array.from({ length: 4 }, () => rand.int(2000) - 1000);
    if (fpgas.length) deployments.push({ service: 'int8-fc', version: '1.0.0', file: '', to: fpgas.map((d) => d.id), category: 'latency-single', declare: { sloMs: 5000 } });

    let deployedOk = 0;
    for (const d of deployments) {
      const fc = d.service === 'int8-fc';
      const recs = await server.deploy({ artifact: fc ? int8FcArtifact(fcWeights, fcBias) : join(models, d.file), service: d.service, version: d.version, kind: fc ? 'int8-fc-weights' : 'onnx', category: d.category, ...d.declare, to: d.to, timeoutMs: 60_000 });
      deployedOk += recs.filter((r) => r.state === 'ready').length;
      const bad = recs.filter((r) => r.state !== 'ready');
      if (bad.length) throw new EparaError({ code: 'deploy.load_failed', reason: `${bad.length} deployment(s) of ${d.service} did not become ready: ${bad.map((r) => `${r.deviceId}=${r.state}`).join(', ')}`, hint: 'see the deploy lines above' });
    }
    // The server routes to a device once its STATE reports the service ready.
    for (const d of deployments) {
      const until = performance.now() + 10_000;
      while (server.candidates(d.service).length < d.to.length && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
    }
    say(`${deployedOk} deployments ready; every device reported its services in STATE`);
    say(`outputs come from the real ONNX models; each device answers at its profile's modelled pace (firmware-sims/profiles.ts)`);
    const ctx: DemoContext = { server, fleet, models, rand, say, out, answered: (k = 1) => void (answered += k) };
    showServices(ctx);
    await placeAndShow(ctx, 'the services as deployed');

    // Classifier: one request pinned to each device (its profile's pace shows in the timing), then
    // a few that the server routes by itself.
    const classify = async (label: string, deviceId?: string) => {
      const x = Float32Array.from({ length: 16 }, () => rand.next() * 4 - 2);
      const started = performance.now();
      const r = await server!.infer('classifier', [tensorFrom('input', x, [1, 16])], { deadlineMs: 2000, ...(deviceId ? { deviceId } : {}) });
      const logits = tensorValues(r.outputs.find((o) => o.name === 'logits')!) as Float32Array;
      const cls = Number((tensorValues(r.outputs.find((o) => o.name === 'class')!) as BigInt64Array)[0]);
      if (cls !== argmax(logits)) throw new EparaError({ code: 'infer.runtime', reason: `class ${cls} is not the argmax of the logits`, hint: 'the model output is inconsistent' });
      const dev = fleet!.devices.find((d) => d.id === r.deviceId)!;
      say(`infer       classifier ${label.padEnd(7)} → ${r.deviceId.padEnd(16)} class ${cls}  logits [${Array.from(logits, (v) => v.toFixed(2).padStart(5)).join(' ')}]  ${(performance.now() - started).toFixed(1).padStart(5)} ms end-to-end, compute ${ms(r.computeUs).padStart(5)} ms (${dev.profile.name} pace: ${serviceTimeMs(dev.profile, 'classifier').toFixed(1)} ms)`);
      if (!deviceId) out(`            ${routeText(r.route)}`);
      answered++;
    };
    for (const d of onnxDevices) await classify('pinned', d.id);
    if (onnxDevices.length) for (let i = 1; i <= 3; i++) await classify(`auto #${i}`);

    if (ids.length) {
      // Segmentation: an 8×8 image with a bright square; the mask is printed as a picture.
      const img = new Float32Array(64);
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) img[y * 8 + x] = x >= 2 && x < 6 && y >= 2 && y < 6 ? 1 : -1 + rand.next() * 0.2;
      const seg = await server.infer('segmentation', [tensorFrom('image', img, [1, 1, 8, 8])], { deadlineMs: 2000 });
      const mask = tensorValues(seg.outputs.find((o) => o.name === 'mask')!) as Uint8Array;
      say(`infer       segmentation → ${seg.deviceId}: per-pixel mask (# = class 1) in ${ms(seg.computeUs)} ms compute`);
      for (let y = 0; y < 8; y++) out(`            ${Array.from(img.subarray(y * 8, y * 8 + 8), (v) => (v > 0 ? '█' : '·')).join('')}   →   ${Array.from(mask.subarray(y * 8, y * 8 + 8), (v) => (v ? '#' : '.')).join('')}`);
      answered++;
    }

    if (strongest) {
      // LLM case: greedy generation, one INFER per token, the context sliding along.
      let ctx = [3, 14, 15, 9, 2, 6, 5, 3];
      const prompt = [...ctx];
      const generated: number[] = [];
      let llmCompute = 0;
      for (let step = 0; step < 8; step++) {
        const r = await server.infer('llm', [tensorFrom('tokens', BigInt64Array.from(ctx.map(BigInt)), [1, 8]) as Tensor], { deadlineMs: 2000 });
        const next = Number((tensorValues(r.outputs.find((o) => o.name === 'next_token')!) as BigInt64Array)[0]);
        generated.push(next);
        ctx = [...ctx.slice(1), next];
        llmCompute += r.computeUs ?? 0;
        answered++;
      }
      say(`infer       llm → ${strongest.id}: prompt [${prompt.join(' ')}] generated [${generated.join(' ')}] (8 tokens, ${ms(llmCompute)} ms compute in total)`);
    }

    // The FPGA: one int8 vector over the 9600-baud SPP line, answered by the RTL's bit-exact model.
    for (const f of fpgas) {
      const x = Int8Array.from({ length: 16 }, () => rand.int(256) - 128);
      const started = performance.now();
      const r = await server.infer('int8-fc', [tensorFrom('x', x, [16])], { deadlineMs: 10_000, deviceId: f.id });
      const scores = Array.from(tensorValues(r.outputs[0]!) as Int32Array);
      say(`infer       int8-fc → ${f.id} over SPP@9600: x [${Array.from(x).slice(0, 6).join(' ')} …] scores [${scores.join(' ')}] class ${(tensorValues(r.outputs[1]!) as Uint8Array)[0]}  ${(performance.now() - started).toFixed(0)} ms end-to-end (the line carries ~960 bytes/s)`);
      answered++;
    }

    if (ids.length) {
      // A frame flow (frequency-single): 20 frames at the declared 10 fps, each due within one frame interval.
      const img = Float32Array.from({ length: 64 }, () => rand.next() * 2 - 1);
      const flow = server.openFlow('segmentation', { fps: 10, maxBatch: 1 });
      const st = await flow.run(20, () => [tensorFrom('image', img, [1, 1, 8, 8])]);
      await flow.close();
      answered += st.onTime + st.late;
      say(`flow        segmentation at ${st.targetFps} fps: ${st.onTime}/${st.offered} frames on time (attainment ${(st.attainment * 100).toFixed(0)}%), ${st.late} late, ${st.droppedAtGateway} dropped at the gateway, ${st.achievedFps.toFixed(1)} fps achieved`);
    }

    if (ids.length) {
      // Demand changes: the classifier is now expected at 300 requests/s. The next round re-plans for it.
      const before = server.servicesView().find((x) => x.service === 'classifier')?.plannedRps ?? 0;
      server.scheduler.declare({ service: 'classifier', category: 'latency-single', demandRps: 300 });
      say(`demand      classifier now declared at 300 req/s (planned until now: ${before.toFixed(1)} req/s)`);
      await placeAndShow(ctx, 'after the demand change');
      await until(() => server!.candidates('classifier').length > 0, 10_000);
      for (let i = 1; i <= 2; i++) await classify(`plan2 #${i}`);
    }

    for (const step of DEMO_STEPS) await step.run(ctx);

    const allIds = fleet.devices.map((d) => d.id);
    const views = server.devices().filter((d) => allIds.includes(d.id));
    say(`done: ${views.length} device${views.length === 1 ? '' : 's'} registered (${views.map((d) => `${d.id}=${d.state}`).join(', ')}), ${deployedOk} deployments ready, ${answered} inference requests answered`);
    return 0;
  } catch (e) {
    const err = e instanceof EparaError ? e : new EparaError({ code: 'internal', reason: e instanceof Error ? e.message.split('\n', 1)[0]! : String(e), hint: 'this is a bug in the demo; please report it', cause: e });
    out(err.toHuman());
    return 1;
  } finally {
    await fleet?.close().catch(() => undefined);
    await server?.close({ drainMs: 0 }).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}

// `npx tsx firmware-sims/demo.ts [devices] [seed]` runs it directly. No top-level await: this file
// is part of epara/emulation, and CommonJS apps load it through require(esm), which refuses one.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void runDemo({ devices: process.argv[2] ? Number(process.argv[2]) : undefined, seed: process.argv[3] ? Number(process.argv[3]) : undefined }).then((exit) => {
    process.exitCode = exit;
  });
}

