import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epara, repoRoot, sandbox, until, type RunResult, type Sandbox } from './helpers.js';

// Issue 21, defect 4, as the operator sees it: `deploy --to all` with an FPGA in the fleet says
// which devices it left out and why, and a deploy naming the FPGA is refused with their formats.
let sb: Sandbox;
let dd: string[];
let stopServe: AbortController;
let stopFleet: AbortController;
let serve: Promise<RunResult>;
let fleet: Promise<RunResult>;
const MODEL = join(repoRoot, 'fixtures', 'models', 'mlp-classifier.onnx');

beforeAll(async () => {
  sb = sandbox({ fakeTools: false });
  dd = ['--data-dir', sb.dataDir];
  stopServe = new AbortController();
  serve = epara([...dd, 'serve', '--tcp', '127.0.0.1:0'], { env: sb.env, signal: stopServe.signal });
  await until('serve.json', () => (existsSync(join(sb.dataDir, 'serve.json')) ? true : undefined));
  stopFleet = new AbortController();
  fleet = epara([...dd, 'fleet', '--devices', 'fpga:1,microcomputer:1', '--time-scale', '0'], { env: sb.env, signal: stopFleet.signal });
  await until('two active devices', async () => {
    const r = await epara([...dd, 'devices', '--json'], { env: sb.env });
    return r.code === 0 && r.json<Array<{ state: string }>>().filter((d) => d.state === 'active').length === 2 ? true : undefined;
  });
}, 60_000);

afterAll(async () => {
  stopFleet.abort();
  await fleet;
  stopServe.abort();
  await serve;
  sb.cleanup();
});

describe('epara deploy and what the devices can run', () => {
  it('--to all leaves the FPGA out and says why; the microcomputer gets the model', async () => {
    const r = await epara([...dd, 'deploy', MODEL, '--service', 'cls', '--category', 'latency-single', '--to', 'all'], { env: sb.env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^fpga-1: left out, it takes int8-fc-weights \(from its HELLO\), not onnx$/m);
    expect(r.stdout).toMatch(/^microcomputer-1\s+ready/m);
    expect(r.stdout).not.toMatch(/^fpga-1/m);
    expect(r.stdout).toMatch(/1\/1 ready/);
  });

  it('naming the FPGA is refused before anything is sent, with its formats and a hint', async () => {
    const r = await epara([...dd, 'deploy', MODEL, '--service', 'cls2', '--category', 'latency-single', '--to', 'fpga-1,microcomputer-1', '--json'], { env: sb.env });
    expect(r.code).toBe(1);
    const e = r.json<{ error: { code: string; reason: string; hint: string } }>().error;
    expect(e.code).toBe('deploy.unsupported_kind');
    expect(e.reason).toBe('no onnx artifacts for this device: fpga-1 takes int8-fc-weights (from their HELLO)');
    expect(e.hint).toContain('epara devices show <id>');
    const list = await epara([...dd, 'deployments', '--service', 'cls2', '--json'], { env: sb.env });
    expect(list.json()).toEqual([]);
  });
});
