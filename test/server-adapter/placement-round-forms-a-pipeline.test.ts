import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { buildWideMlp } from '../../firmware-sims/wide-mlp.js';
import { OnnxModel } from '../../src/client/onnx-runtime.js';
import { tensorFrom } from '../../src/protocol/index.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';

/**
 * The scheduler splits a model by itself (issue 17 §3): a latency-multi model of 3.0 MB deployed
 * to emulated devices with 2 MiB of model memory fits none; the placement round's allocator forms
 * a group, the server cuts the model for the group's splitModel shares, deploys and places the
 * stages, and infer() answers through them bit-exact. When a stage device goes, the next round
 * forms the group again on the devices left.
 */
let dir: string;
let server: EparaServer;
let devices: EmulatedDevice[] = [];
const IDS = ['jetson-1', 'jetson-2', 'jetson-3'];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-pipeline-plan-'));
  server = new EparaServer({ dataDir: join(dir, 'server'), periods: { heartbeatMs: 500, stateSyncMs: 200 }, rttProbeMs: 0 });
  await server.start();
  const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
  devices = await Promise.all(
    IDS.map((id) =>
      EmulatedDevice.start({
        profile: 'embedded-gpu',
        id,
        key: server.provision({ id, deviceClass: 'embedded-gpu' }).key,
        connector: () => connectTcp({ host: '127.0.0.1', port }),
        dataDir: join(dir, id),
        modelMemoryKiB: 2048,
        timeScale: 0,
      }),
    ),
  );
});
afterEach(async () => {
  for (const d of devices) await d.close().catch(() => undefined);
  await server.close({ drainMs: 0 });
  rmSync(dir, { recursive: true, force: true });
});

describe('a placement round forms a pipeline for a model that fits no device', () => {
  it('splits it over the group the allocator forms, serves it bit-exact, and re-forms the group after a loss', async () => {
    const model = await buildWideMlp();
    const whole = await server.deploy({ artifact: model, service: 'wide', version: '1', kind: 'onnx', category: 'latency-multi', to: 'all', timeoutMs: 30_000 });
    expect(whole.every((r) => r.errorCode === 'deploy.too_large')).toBe(true);

    const round = await server.placement();
    expect(round, 'the scheduler ran').toBeDefined();
    const unit = round!.result.placement.assignments.find((a) => a.service === 'wide');
    expect(unit?.devices.length).toBeGreaterThanOrEqual(2);
    const g = server.pipeline('wide');
    expect(g?.stages.map((s) => s.deviceId)).toEqual(unit!.devices);
    g!.stages.forEach((s, i) => expect(s.share).toBeCloseTo(unit!.stageFractions[i]!, 9));
    // No stage shows up as a service of its own to the planner.
    expect(round!.result.placement.assignments.some((a) => a.service.includes('#'))).toBe(false);

    const x = tensorFrom('x', Float32Array.from({ length: 32 }, (_, i) => Math.cos(i)), [2, 16]);
    const want = await (await OnnxModel.load(model)).run([x]);
    const got = await server.infer('wide', [x], { deadlineMs: 20_000 });
    want.forEach((w, i) => expect(Buffer.from(got.outputs[i]!.data).equals(Buffer.from(w.data)), w.name).toBe(true));

    // A stage device goes: requests fail typed, and the next round forms the group on the others.
    const gone = g!.stages[0]!.deviceId;
    await devices.find((d) => d.id === gone)!.close();
    await expect(server.infer('wide', [x], { deadlineMs: 5000 })).rejects.toMatchObject({ code: 'infer.stage_lost' });
    const until = Date.now() + 15_000;
    let again = server.pipeline('wide');
    while (Date.now() < until) {
      await server.placement();
      again = server.pipeline('wide');
      if (again && !again.lost && !again.stages.some((s) => s.deviceId === gone)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(again?.lost).toBeUndefined();
    expect(again?.stages.some((s) => s.deviceId === gone)).toBe(false);
    const after = await server.infer('wide', [x], { deadlineMs: 20_000 });
    expect(Buffer.from(after.outputs[0]!.data).equals(Buffer.from(want[0]!.data))).toBe(true);
  });
});
