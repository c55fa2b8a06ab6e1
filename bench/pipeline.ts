/**
 * Model parallelism, live (issue 17 §3): throughput of a model split over two emulated devices
 * on a real EparaServer over TCP loopback, requests sent all at once (pipelined) beside the same
 * requests sent one after another (the baseline: every request pays every stage). Each stage is
 * paced to a fixed time on its device (stage 0 slower than stage 1), so the pipelined rate should
 * approach the slowest stage's (1000 / slowest ms), not 1000 / (sum of stages). Target: pipelined ÷
 * sequential ≥ 0.8 × (sum ÷ slowest); printed NOT MET otherwise. Also reports that the answers
 * are bit-identical to the whole model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmulatedDevice } from '../firmware-sims/emulated-device.js';
import { buildWideMlp } from '../firmware-sims/wide-mlp.js';
import { OnnxModel } from '../src/client/onnx-runtime.js';
import type { ServiceRunner } from '../src/client/runner.js';
import { tensorFrom } from '../src/protocol/index.js';
import { EparaServer } from '../src/server-adapter/server.js';
import { connectTcp } from '../src/transport/tcp.js';

const STAGE_MS = [60, 35];
const N = Number(process.env.EPARA_BENCH_PIPELINE_REQUESTS ?? 24);

function paced(ms: number) {
  return (_service: string, runner: ServiceRunner): ServiceRunner => ({
    ...runner,
    run: async (inputs, ctx) => {
      const t0 = performance.now();
      const out = await runner.run(inputs, ctx);
      const left = ms - (performance.now() - t0);
      if (left > 0) await new Promise((r) => setTimeout(r, Math.ceil(left)));
      return out;
    },
  });
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'epara-bench-pipeline-'));
  const server = new EparaServer({ dataDir: join(dir, 'server'), scheduler: 'off', periods: { heartbeatMs: 1000, stateSyncMs: 500 }, rttProbeMs: 0 });
  const devices: EmulatedDevice[] = [];
  try {
    await server.start();
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    for (const [i, id] of ['stage-a', 'stage-b'].entries()) {
      devices.push(
        await EmulatedDevice.start({
          profile: 'embedded-gpu',
          id,
          key: server.provision({ id, deviceClass: 'embedded-gpu' }).key,
          connector: () => connectTcp({ host: '127.0.0.1', port }),
          dataDir: join(dir, id),
          modelMemoryKiB: 2048,
          device: { wrapRunner: paced(STAGE_MS[i]!) },
        }),
      );
    }
    const model = await buildWideMlp();
    const g = await server.deployPipeline({ service: 'wide', version: '1', artifact: model, to: ['stage-a', 'stage-b'] });
    const inputs = Array.from({ length: N }, (_, i) => tensorFrom('x', Float32Array.from({ length: 16 }, (_, j) => Math.sin(i * 31 + j)), [1, 16]));
    // Warm-up: one request through both stages.
    await server.infer('wide', [inputs[0]!], { deadlineMs: 30_000 });

    let t0 = performance.now();
    for (const x of inputs) await server.infer('wide', [x], { deadlineMs: 30_000 });
    const sequentialRps = N / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    const answers = await Promise.all(inputs.map((x) => server.infer('wide', [x], { deadlineMs: 60_000 })));
    const pipelinedRps = N / ((performance.now() - t0) / 1000);

    const whole = await OnnxModel.load(model);
    let exact = 0;
    for (let i = 0; i < N; i++) {
      const want = await whole.run([inputs[i]!]);
      if (want.every((w, k) => Buffer.from(answers[i]!.outputs[k]!.data).equals(Buffer.from(w.data)))) exact++;
    }
    await whole.release();

    const sum = STAGE_MS.reduce((a, b) => a + b, 0);
    const slowest = Math.max(...STAGE_MS);
    const ideal = sum / slowest;
    const ratio = pipelinedRps / sequentialRps;
    const target = 0.8 * ideal;
    console.log(`${g.stages.length} stages (${g.stages.map((s) => `${s.deviceId} ${(s.size / 1e6).toFixed(2)} MB, paced ${STAGE_MS[s.index]} ms`).join('; ')}), ${N} requests, real TCP loopback`);
    console.log(`| mode | req/s | bound |`);
    console.log(`|---|---|---|`);
    console.log(`| sequential (baseline: one request at a time) | ${sequentialRps.toFixed(1)} | 1000/(sum ${sum} ms) = ${(1000 / sum).toFixed(1)} |`);
    console.log(`| pipelined (all at once) | ${pipelinedRps.toFixed(1)} | 1000/(slowest ${slowest} ms) = ${(1000 / slowest).toFixed(1)} |`);
    console.log(`ratio pipelined ÷ sequential ${ratio.toFixed(2)}× (ideal sum ÷ slowest = ${ideal.toFixed(2)}×; target ≥ ${target.toFixed(2)}×) ${ratio >= target ? 'MET' : 'NOT MET'}`);
    console.log(`bit-exact against the whole model: ${exact}/${N}`);
  } finally {
    for (const d of devices) await d.close().catch(() => undefined);
    await server.close({ drainMs: 0 }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
