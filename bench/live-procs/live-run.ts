/**
 * One live run of the testbed: a fresh EparaServer (the policy under test as its scheduler) with a
 * fresh emulated fleet in a child process (fleet-child.ts) over real TCP, the scenario's rows at
 * one load replayed against it in real time ÷ k, and the outcomes counted by the simulator's own
 * MetricsCollector, so a live run and a simulated one are read by the same code (capacity.ts).
 *
 * Each run starts as a simulated run does: both models deployed, the policy's initial placement
 * made and applied (copies of a model on devices the placement does not use are unloaded), then
 * the clock starts. chat-7b requests are single infer() calls; each seg-cam camera is one frame
 * flow (server.openFlow), so its frames go under credits, batched, and dropped at the gateway
 * when they would miss their budget.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensorFrom, type Tensor } from '../../src/protocol/index.js';
import type { ServiceSpec } from '../../src/scheduler/types.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import type { FrameFlow } from '../../src/server-adapter/frame-flows.js';
import type { SchedulerConfig } from '../../src/server-adapter/scheduler-wiring.js';
import { profileEstimator, PROFILES } from '../../src/sim/device-profiles.js';
import { MetricsCollector, type RunMetrics } from '../../src/sim/metrics.js';
import { DEFAULT_LINKS } from '../../src/sim/scenario.js';
import type { SimDeviceSpec } from '../../src/sim/simulator.js';
import type { Workload } from '../../src/sim/workload.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MODELS: Record<string, string> = { 'chat-7b': 'mlp-classifier.onnx', 'seg-cam': 'conv-segmenter.onnx' };

export interface LiveRunOptions {
  policy: string;
  load: number;
  fleet: SimDeviceSpec[];
  services: ServiceSpec[];
  workload: Workload;
  /** Every delay ÷ timeScale (arrivals, device pace, SLOs, state-sync and placement periods). */
  timeScale: number;
  seed: number;
  log?: (line: string) => void;
}

export interface LiveRunResult {
  metrics: RunMetrics;
  /** Frame flows: mean attainment, frames dropped at the gateway, mean frames per batch. */
  flows: { count: number; attainment: number; droppedAtGateway: number; meanBatch: number };
  setupSec: number;
  wallSec: number;
}

function ask(child: ChildProcess, cmd: object, op: string, capMs = 180_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`fleet child did not answer ${op} within ${capMs} ms`)), capMs);
    const on = (m: { op: string }): void => {
      if (m.op !== op) return;
      clearTimeout(t);
      child.off('message', on);
      resolve(m as Record<string, unknown>);
    };
    child.on('message', on);
    child.send(cmd);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A chat request's input: the mlp-classifier's [1,16] row, its first element the request's size factor. */
function chatInput(size: number, i: number): Tensor[] {
  const x = new Float32Array(16);
  x[0] = size;
  for (let k = 1; k < 16; k++) x[k] = Math.sin(i + k);
  return [tensorFrom('input', x, [1, 16])];
}

function frameInput(i: number): Tensor[] {
  const x = new Float32Array(64);
  x[0] = 1;
  for (let k = 1; k < 64; k++) x[k] = Math.sin(i * 3 + k) > 0 ? 1 : 0;
  return [tensorFrom('image', x, [1, 1, 8, 8])];
}

export async function liveRun(o: LiveRunOptions): Promise<LiveRunResult> {
  const k = o.timeScale;
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'epara-live-'));
  const zoneOf = new Map(o.fleet.map((d) => [d.id, d.zone]));
  // The planner sees the scenario's services (their demand at this load) and the profile model,
  // as the simulator's planner does; the policy is the one under test.
  const cfg = { services: o.services.map((s) => ({ ...s })), estimator: profileEstimator(), links: DEFAULT_LINKS, zoneOf: (id: string) => zoneOf.get(id) ?? 'default', policy: o.policy } as SchedulerConfig;
  const server = new EparaServer({
    dataDir: join(dir, 'server'),
    periods: { heartbeatMs: 2000, stateSyncMs: Math.max(100, Math.round(3000 / k)), placementMs: Math.max(1000, Math.round(60_000 / k)) },
    rttProbeMs: 0,
    scheduler: cfg,
  });
  await server.start();
  const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
  const child = fork(join(HERE, 'fleet-child.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const devices = o.fleet.map((d, i) => ({ id: d.id, key: server.provision({ id: d.id, deviceClass: d.deviceClass }).key, profile: d.deviceClass, seed: o.seed * 1000 + i }));
    await ask(child, { op: 'start', port, devices, services: o.services, timeScale: 1 / k, dataDir: join(dir, 'fleet') }, 'started');
    // Each model on every device class that can run its kind, so no placement waits for a transfer.
    for (const s of o.services) {
      const to = o.fleet.filter((d) => (PROFILES[d.deviceClass].speed[s.kind] ?? 0) > 0).map((d) => d.id);
      await server.deploy({ artifact: readFileSync(new URL(`../../fixtures/models/${MODELS[s.name]}`, import.meta.url)), service: s.name, version: '1.0.0', kind: 'onnx', category: s.category, to, timeoutMs: 120_000 });
    }
    const round = await server.placement();
    const placed = new Set((round?.result.placement.assignments ?? []).flatMap((a) => a.devices.map((d) => `${a.service}@${d}`)));
    // Copies outside the placement would be routable: unload them, as the simulated fleet never has them.
    for (const d of o.fleet) {
      const ops = o.services.filter((s) => !placed.has(`${s.name}@${d.id}`) && (PROFILES[d.deviceClass].speed[s.kind] ?? 0) > 0).map((s) => ({ action: 'unload' as const, service: s.name }));
      if (ops.length) await server.sendPlacement(d.id, ops).catch(() => undefined);
    }
    // Two STATE periods: every device has reported what it now serves.
    await sleep(2 * Math.max(100, 3000 / k) + 200);
    const units = o.services.map((s) => `${s.name} ${server.candidates(s.name).length}`).join(', ');
    o.log?.(`  ${o.policy} ×${o.load}: ${placed.size} units placed (${units} routable)`);
    const setupSec = (performance.now() - t0) / 1000;
    const metrics = await replay(server, o);
    const wallSec = (performance.now() - t0) / 1000 - setupSec;
    return { ...metrics, setupSec, wallSec };
  } finally {
    await ask(child, { op: 'stop' }, 'stopped', 30_000).catch(() => child.kill('SIGKILL'));
    await server.close({ drainMs: 1000 }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The workload's rows in real time ÷ k; outcomes counted in virtual (unscaled) milliseconds. */
async function replay(server: EparaServer, o: LiveRunOptions): Promise<Omit<LiveRunResult, 'setupSec' | 'wallSec'>> {
  const k = o.timeScale;
  const w = o.workload;
  const specs = new Map(o.services.map((s) => [s.name, s]));
  const index = new Map(o.services.map((s, i) => [s.name, i]));
  const metrics = new MetricsCollector(o.services);
  const flows = new Map<number, FrameFlow>();
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < w.count; i++) {
    const at = start + w.timeMs[i]! / k;
    const wait = at - performance.now();
    if (wait > 1) await sleep(wait);
    const name = w.services[w.service[i]!]!;
    const spec = specs.get(name)!;
    const si = index.get(name)!;
    const budget = w.deadlineMs[i]!;
    const sent = performance.now();
    if (w.flow[i]! >= 0) {
      let flow = flows.get(w.flow[i]!);
      if (!flow) flows.set(w.flow[i]!, (flow = server.openFlow(name, { fps: (spec.targetFps ?? 5) * k, budgetMs: budget / k, maxBatch: spec.maxBatch ?? 8 })));
      pending.push(
        flow.push(frameInput(i)).then((r) => {
          if (r.status === 'ok' || r.status === 'late') metrics.complete(spec.category, r.latencyMs! * k, r.status === 'ok', si);
          else metrics.drop(spec.category, r.status === 'dropped' ? 'infer.deadline' : (r.error?.code ?? 'internal'), si);
        }),
      );
    } else {
      pending.push(
        server.infer(name, chatInput(w.size[i]!, i), { deadlineMs: Math.max(1, Math.ceil(budget / k)) }).then(
          () => {
            const took = (performance.now() - sent) * k;
            metrics.complete(spec.category, took, took <= budget, si);
          },
          (e: { code?: string }) => metrics.drop(spec.category, e.code ?? 'internal', si),
        ),
      );
    }
  }
  await Promise.all(pending);
  const stats = await Promise.all([...flows.values()].map((f) => f.close()));
  const n = stats.length || 1;
  return {
    metrics: metrics.finish(o.policy, o.load, w.durationMs, 0, o.fleet.length),
    flows: {
      count: stats.length,
      attainment: stats.reduce((a, s) => a + s.attainment, 0) / n,
      droppedAtGateway: stats.reduce((a, s) => a + s.droppedAtGateway, 0),
      meanBatch: stats.reduce((a, s) => a + s.meanBatch, 0) / n,
    },
  };
}
