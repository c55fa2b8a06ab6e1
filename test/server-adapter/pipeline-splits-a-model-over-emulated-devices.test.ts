import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { buildWideMlp } from '../../firmware-sims/wide-mlp.js';
import { OnnxModel } from '../../src/client/onnx-runtime.js';
import type { ServiceRunner } from '../../src/client/runner.js';
import { EparaError } from '../../src/errors.js';
import { tensorFrom, WIRE, type Tensor } from '../../src/protocol/index.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';

/**
 * Model parallelism, live (issue 17 §3): a 3.0 MB model on emulated devices whose model memory is
 * 2 MiB each fits none of them, so it is split by the partitioner and served as a pipeline over
 * real TCP; the answers are bit-identical to one onnxruntime session of the whole model, requests
 * overlap across stages, and a lost stage device fails requests with a typed error.
 */
let dir: string;
let server: EparaServer;
let devices: EmulatedDevice[] = [];
let model: Uint8Array;
/** What the devices ran, in order: `<device> <service> start|end <request>`. */
const runs: string[] = [];

const IDS = ['jetson-1', 'jetson-2', 'pi-1'];

function recording(id: string) {
  let n = 0;
  return (service: string, runner: ServiceRunner): ServiceRunner => ({
    ...runner,
    run: async (inputs, ctx) => {
      const me = n++;
      runs.push(`${id} ${service} start ${me}`);
      // Long enough that a second request reaches stage 0 while the first is in stage 1.
      await new Promise((r) => setTimeout(r, 40));
      const out = await runner.run(inputs, ctx);
      runs.push(`${id} ${service} end ${me}`);
      return out;
    },
  });
}

function input(seed: number): Tensor {
  return tensorFrom('x', Float32Array.from({ length: 16 }, (_, i) => Math.sin(seed * 13 + i)), [1, 16]);
}

beforeEach(async () => {
  runs.length = 0;
  dir = mkdtempSync(join(tmpdir(), 'epara-pipeline-'));
  model = await buildWideMlp();
  server = new EparaServer({ dataDir: join(dir, 'server'), periods: { heartbeatMs: 500, stateSyncMs: 200 }, rttProbeMs: 0 });
  await server.start();
  const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
  devices = await Promise.all(
    IDS.map((id) =>
      EmulatedDevice.start({
        profile: id.startsWith('pi') ? 'microcomputer' : 'embedded-gpu',
        id,
        key: server.provision({ id, deviceClass: id.startsWith('pi') ? 'microcomputer' : 'embedded-gpu' }).key,
        connector: () => connectTcp({ host: '127.0.0.1', port }),
        dataDir: join(dir, id),
        modelMemoryKiB: 2048,
        device: { wrapRunner: recording(id) },
      }),
    ),
  );
});
afterEach(async () => {
  for (const d of devices) await d.close().catch(() => undefined);
  await server.close({ drainMs: 0 });
  rmSync(dir, { recursive: true, force: true });
});

describe('a model that fits no device is split into a pipeline', () => {
  it('is refused whole, then served split, bit-exact against the whole model, with stages overlapping', async () => {
    expect(model.length).toBeGreaterThan(2048 * 1024);
    const whole = await server.deploy({ artifact: model, service: 'wide', version: '1', kind: 'onnx', category: 'latency-multi', to: IDS, timeoutMs: 30_000 });
    expect(whole.map((r) => r.state)).toEqual(['failed', 'failed', 'failed']);
    expect(whole.map((r) => r.errorCode)).toEqual(Array(3).fill('deploy.too_large'));

    const g = await server.deployPipeline({ service: 'wide', version: '1', artifact: model, to: ['jetson-1', 'jetson-2'], shares: [0.5, 0.5] });
    expect(g.stages.map((s) => s.deviceId)).toEqual(['jetson-1', 'jetson-2']);
    for (const s of g.stages) expect(s.size).toBeLessThanOrEqual(2048 * 1024);
    expect(server.deployments({ service: 'wide#0' })[0]).toMatchObject({ deviceId: 'jetson-1', state: 'ready', sha256: g.stages[0]!.sha256 });

    const reference = await OnnxModel.load(model);
    const inputs = Array.from({ length: 4 }, (_, i) => input(i));
    const answers = await Promise.all(inputs.map((x) => server.infer('wide', [x], { deadlineMs: 20_000 })));
    for (let i = 0; i < inputs.length; i++) {
      const want = await reference.run([inputs[i]!]);
      expect(answers[i]!.outputs.map((t) => t.name)).toEqual(['logits', 'class']);
      for (const w of want) expect(Buffer.from(answers[i]!.outputs.find((o) => o.name === w.name)!.data).equals(Buffer.from(w.data)), w.name).toBe(true);
    }
    // Pipelined: a later request's stage 0 started before an earlier one's stage 1 ended.
    const at = (line: string) => runs.indexOf(line);
    expect(at('jetson-1 wide#0 start 1')).toBeGreaterThanOrEqual(0);
    expect(at('jetson-1 wide#0 start 1')).toBeLessThan(at('jetson-2 wide#1 end 0'));
  });

  it('fails requests with infer.stage_lost when a stage device goes, and can be formed again on the others', async () => {
    await server.deployPipeline({ service: 'wide', version: '1', artifact: model, to: ['jetson-1', 'jetson-2'] });
    await devices[1]!.close();
    const err = await server.infer('wide', [input(1)], { deadlineMs: 5000 }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(EparaError);
    expect((err as EparaError).code).toBe('infer.stage_lost');
    expect((err as EparaError).hint).toMatch(/placement/);
    expect(server.pipeline('wide')?.lost?.deviceId).toBe('jetson-2');
    const again = await server.deployPipeline({ service: 'wide', version: '1', artifact: model, to: ['jetson-1', 'pi-1'] });
    expect(again.lost).toBeUndefined();
    const r = await server.infer('wide', [input(2)], { deadlineMs: 20_000 });
    const want = await (await OnnxModel.load(model)).run([input(2)]);
    expect(Buffer.from(r.outputs[0]!.data).equals(Buffer.from(want[0]!.data))).toBe(true);
  });

  it('a stage whose tensor names do not match the loaded model is refused with placement.stage_mismatch', async () => {
    const g = await server.deployPipeline({ service: 'wide', version: '1', artifact: model, to: ['jetson-1', 'jetson-2'] });
    const [res] = await server.sendPlacement('jetson-2', [{ action: 'load', service: 'wide#1', version: '1', pipeline: { index: 1, count: 2, inputNames: ['not-a-tensor'], outputNames: g.stages[1]!.outputNames } }]);
    expect(res!.code).toBe(WIRE['placement.stage_mismatch']);
  });
});
