import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epara, repoRoot, sandbox, until, type RunResult, type Sandbox } from './helpers.js';

// Issue 17 §1/§2/§5, tried as a new user would: `epara serve` (EPARA by default, a short
// placement period) + `epara fleet` + `epara deploy … --category`, then `epara placement --json`
// and `epara services --json` through the real CLI against the real server and fleet.
let sb: Sandbox;
let dd: string[];
let stopServe: AbortController;
let stopFleet: AbortController;
let serveRun: Promise<RunResult>;
let fleetRun: Promise<RunResult>;
const MODEL = join(repoRoot, 'fixtures', 'models', 'mlp-classifier.onnx');
const INPUT = JSON.stringify([Array.from({ length: 16 }, (_, i) => i / 10)]);
const PLACEMENT_MS = 400;

interface Placement {
  scheduler: string;
  planVersion: number;
  madeAt: number | null;
  planningMs: number | null;
  devices: Array<{ id: string; units: Array<{ service: string; replicas?: number; batch?: number; share?: number; stage?: number; stages?: number }> }>;
}
interface Service {
  service: string;
  category: string;
  sloMs: number;
  attainment: number | null;
  goodputRps: number;
  serviceTimeMs: Record<string, number>;
  samples: number;
  declaredRps: number | null;
}

beforeAll(async () => {
  sb = sandbox({ fakeTools: false });
  dd = ['--data-dir', sb.dataDir];
  stopServe = new AbortController();
  serveRun = epara([...dd, 'serve', '--tcp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--placement-ms', String(PLACEMENT_MS), '--state-sync-ms', '200', '--heartbeat-ms', '500'], { env: sb.env, signal: stopServe.signal });
  await until('serve.json', () => (existsSync(join(sb.dataDir, 'serve.json')) ? true : undefined));
  stopFleet = new AbortController();
  fleetRun = epara([...dd, 'fleet', '--devices', '2', '--profile', 'microcomputer', '--time-scale', '0', '--seed', '5'], { env: sb.env, signal: stopFleet.signal });
  await until('two active emulated devices', async () => {
    const r = await epara([...dd, 'devices', '--json'], { env: sb.env });
    const list = r.code === 0 ? r.json<Array<{ state: string }>>() : [];
    return list.filter((d) => d.state === 'active').length === 2 ? true : undefined;
  });
}, 60_000);

afterAll(async () => {
  stopFleet?.abort();
  await fleetRun?.catch(() => undefined);
  stopServe?.abort();
  await serveRun?.catch(() => undefined);
  sb?.cleanup();
});

describe('epara serve runs the EPARA scheduler by default', () => {
  it('before any deploy, placement says epara with no plan and services is empty', async () => {
    const p = await epara([...dd, 'placement', '--json'], { env: sb.env });
    expect(p.code).toBe(0);
    expect(p.json<Placement>().scheduler).toBe('epara');
    const s = await epara([...dd, 'services', '--json'], { env: sb.env });
    expect(s.json<Service[]>()).toEqual([]);
  });

  it('deploy --category declares the classifier; within one placement period the plan has it on a device', async () => {
    const dep = await epara([...dd, 'deploy', MODEL, '--service', 'classifier', '--category', 'latency-single', '--slo-ms', '800', '--to', 'all', '--json'], { env: sb.env });
    expect(dep.code).toBe(0);
    const deployedAt = Date.now();
    const plan = await until('a plan with the classifier', async () => {
      const r = await epara([...dd, 'placement', '--json'], { env: sb.env });
      const p = r.json<Placement>();
      return p.planVersion >= 1 && p.devices.some((d) => d.units.some((u) => u.service === 'classifier')) ? p : undefined;
    });
    // One placement period (plus the CLI's own start-up per poll, which is most of this).
    expect(plan.madeAt! - deployedAt).toBeLessThan(PLACEMENT_MS * 2 + 1000);
    expect(plan.planningMs).toBeGreaterThanOrEqual(0);
    const unit = plan.devices.flatMap((d) => d.units).find((u) => u.service === 'classifier')!;
    expect(unit).toMatchObject({ service: 'classifier', replicas: expect.any(Number), batch: expect.any(Number), share: expect.any(Number) });
    const human = await epara([...dd, 'placement'], { env: sb.env });
    expect(human.stdout).toMatch(/^scheduler epara: plan \d+, made .+, planning took [\d.]+ ms$/m);
    expect(human.stdout).toMatch(/^microcomputer-\d\s+classifier ×\d b\d+/m);
  });

  it('services lists the classifier with its category, SLO and, after a few infers, a measured service time', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await epara([...dd, 'infer', 'classifier', '--input', INPUT, '--json'], { env: sb.env });
      expect(r.code).toBe(0);
      expect(r.json<{ route?: { policy: string; predictedMs: number } }>().route).toMatchObject({ policy: 'epara', predictedMs: expect.any(Number) });
    }
    const s = await until('a measured classifier', async () => {
      const list = (await epara([...dd, 'services', '--json'], { env: sb.env })).json<Service[]>();
      const c = list.find((x) => x.service === 'classifier');
      return c && c.samples >= 4 ? c : undefined;
    });
    expect(s).toMatchObject({ service: 'classifier', category: 'latency-single', sloMs: 800, declaredRps: null });
    expect(s.serviceTimeMs.microcomputer).toBeGreaterThan(0);
    expect(s.attainment).toBe(1);
    expect(s.goodputRps).toBeGreaterThan(0);
    const human = await epara([...dd, 'services'], { env: sb.env });
    expect(human.stdout).toMatch(/^classifier\s+latency-single\s+800 ms\s+.*microcomputer [\d.]+ ms/m);
  });

  it('the scheduler metrics reach Prometheus', async () => {
    const rt = JSON.parse(readFileSync(join(sb.dataDir, 'serve.json'), 'utf8')) as { http: string };
    const token = readFileSync(join(sb.dataDir, 'http-token'), 'utf8').trim();
    const services = (await (await fetch(`${rt.http}/services`, { headers: { authorization: `Bearer ${token}` } })).json()) as Service[];
    expect(services.map((s) => s.service)).toEqual(['classifier']);
    const placement = (await (await fetch(`${rt.http}/placement`, { headers: { authorization: `Bearer ${token}` } })).json()) as Placement;
    expect(placement.planVersion).toBeGreaterThanOrEqual(1);
  });
});

describe('bad scheduler input is a typed error naming a real command', () => {
  it('deploy with an SLO out of range, or --fps on a latency service, fails before the upload', async () => {
    const bad = await epara([...dd, 'deploy', MODEL, '--service', 'c2', '--category', 'latency-single', '--slo-ms', '0', '--to', 'all', '--json'], { env: sb.env });
    expect(bad.code).not.toBe(0);
    expect(bad.json<{ error: { code: string; hint: string } }>().error).toMatchObject({ code: 'config.range', hint: expect.stringContaining('epara deploy') });
    const fps = await epara([...dd, 'deploy', MODEL, '--service', 'c2', '--category', 'latency-single', '--fps', '10', '--to', 'all', '--json'], { env: sb.env });
    expect(fps.json<{ error: { code: string } }>().error.code).toBe('config.slo');
    const list = (await epara([...dd, 'deployments', '--service', 'c2', '--json'], { env: sb.env })).json<unknown[]>();
    expect(list).toEqual([]);
  });

  it('POST /deployments with a bad declaration answers 400 with the typed body', async () => {
    const rt = JSON.parse(readFileSync(join(sb.dataDir, 'serve.json'), 'utf8')) as { http: string };
    const token = readFileSync(join(sb.dataDir, 'http-token'), 'utf8').trim();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const sha = 'sha256:' + 'b'.repeat(64);
    const res = await fetch(`${rt.http}/deployments`, { method: 'POST', headers, body: JSON.stringify({ artifact: sha, service: 'c3', version: '1', kind: 'onnx', category: 'latency-single', to: 'all', sloMs: 10_000_000 }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string; field: string } }).error).toMatchObject({ code: 'config.range', field: 'sloMs' });
    const cat = await fetch(`${rt.http}/deployments`, { method: 'POST', headers, body: JSON.stringify({ artifact: sha, service: 'c3', version: '1', kind: 'onnx', category: 'latency-double', to: 'all' }) });
    expect(cat.status).toBe(400);
  });

  it('serve refuses an unknown scheduler, a period out of range, and a bad config.json scheduler', async () => {
    const other = sandbox({ fakeTools: false });
    try {
      const d = ['--data-dir', other.dataDir];
      const name = await epara([...d, 'serve', '--tcp', '127.0.0.1:0', '--scheduler', 'fastest', '--json'], { env: other.env });
      expect(name.code).not.toBe(0);
      expect(name.json<{ error: { code: string; hint: string } }>().error).toMatchObject({ code: 'config.scheduler', hint: expect.stringContaining('epara serve --scheduler epara') });
      const period = await epara([...d, 'serve', '--tcp', '127.0.0.1:0', '--placement-ms', '5', '--json'], { env: other.env });
      expect(period.json<{ error: { code: string; reason: string } }>().error).toMatchObject({ code: 'config.range', reason: expect.stringContaining('--placement-ms=5') });
      mkdirSync(other.dataDir, { recursive: true });
      writeFileSync(join(other.dataDir, 'config.json'), JSON.stringify({ serve: { scheduler: 'nope' } }));
      const cfg = await epara([...d, 'serve', '--tcp', '127.0.0.1:0', '--json'], { env: other.env });
      expect(cfg.json<{ error: { code: string } }>().error.code).toBe('config.scheduler');
    } finally {
      other.cleanup();
    }
  });
});
