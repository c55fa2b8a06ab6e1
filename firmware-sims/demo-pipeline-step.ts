/**
 * The demo's model-parallel step (issue 17 §3, §6): a 2.9 MB model (wide-mlp.ts) that fits no
 * emulated device (each has a 2 MiB model-memory budget in the demo) is deployed as a
 * latency-multi service; every device refuses it whole, the next placement round's allocator
 * forms a device group, the server cuts the model for the group's shares and deploys and places
 * the stages, and the demo prints `pipeline <service> <k> stages: <device> → <device> …` and then
 * checks the split model's answers bit for bit against the whole model in one onnxruntime session.
 */
import { OnnxModel } from '../src/client/onnx-runtime.js';
import { EparaError } from '../src/errors.js';
import { tensorFrom, tensorValues } from '../src/protocol/index.js';
import { PipelineGroups } from '../src/server-adapter/pipeline-groups.js';
import type { DemoContext, DemoStep } from './demo-steps.js';
import { buildWideMlp } from './wide-mlp.js';

/** The model memory each emulated device of the demo has (HELLO caps.memoryKiB, and the largest artifact it stores). */
export const DEMO_MODEL_MEMORY_KIB = 2048;
const SERVICE = 'wide-mlp';

async function run(ctx: DemoContext): Promise<void> {
  const { server, say } = ctx;
  const onnx = ctx.fleet.devices.filter((d) => d.profile.caps.formats?.includes('onnx')).map((d) => d.id);
  if (onnx.length < 2) return say(`pipeline    skipped: a split needs two ONNX devices, the demo has ${onnx.length}`);
  let model: Uint8Array;
  try {
    model = await buildWideMlp();
  } catch (e) {
    // onnx-proto is an optional peer: a gateway app that never splits models does not install it.
    if (e instanceof EparaError && e.code === 'partition.onnx_proto_missing') return say(`pipeline    skipped: ${e.reason} (hint: ${e.hint})`);
    throw e;
  }
  const recs = await server.deploy({ artifact: model, service: SERVICE, version: '1.0.0', kind: 'onnx', category: 'latency-multi', sloMs: 3000, to: onnx, timeoutMs: 60_000 });
  const refused = recs.filter((r) => r.errorCode === 'deploy.too_large').length;
  say(`pipeline    ${SERVICE} is ${(model.length / 1e6).toFixed(1)} MB; each device holds ${DEMO_MODEL_MEMORY_KIB / 1024} MiB of models, so ${refused} of ${recs.length} refused it whole (deploy.too_large)`);
  // Imported here: demo-steps.ts lists this step, so a static import would be a cycle.
  const { placeAndShow } = await import('./demo-steps.js');
  await placeAndShow(ctx, `${SERVICE} fits no device: latency-multi, split over a group`);
  const g = server.pipeline(SERVICE);
  if (!g) throw new EparaError({ code: 'deploy.pipeline_group', reason: `the placement round formed no pipeline for ${SERVICE}`, hint: 'see the plan above: the allocator found no group with the memory for it' });
  say(`${PipelineGroups.describe(g)}`);
  for (const s of g.stages) ctx.out(`            stage ${s.index + 1}/${g.stages.length} on ${s.deviceId.padEnd(16)} ${(s.size / 1e6).toFixed(2)} MB (share ${(s.share * 100).toFixed(0)}%), reads ${s.inputNames.join(', ')} → ${s.outputNames.join(', ')}`);

  // Bit-exact: the split model against the whole model in one onnxruntime session (what one device with the memory would run).
  const whole = await OnnxModel.load(model);
  let same = 0;
  const n = 3;
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const x = tensorFrom('x', Float32Array.from({ length: 16 }, () => ctx.rand.next() * 2 - 1), [1, 16]);
      return server.infer(SERVICE, [x], { deadlineMs: 10_000 }).then((r) => ({ x, r, i }));
    }),
  );
  for (const { x, r } of answers) {
    const want = await whole.run([x]);
    if (want.every((w) => Buffer.from(r.outputs.find((o) => o.name === w.name)?.data ?? []).equals(Buffer.from(w.data)))) same++;
  }
  await whole.release();
  ctx.answered(n);
  const logits = Array.from(tensorValues(answers[0]!.r.outputs.find((o) => o.name === 'logits')!) as Float32Array).slice(0, 4);
  say(`pipeline    ${SERVICE}: ${n} requests through ${g.stages.length} stages at once (first logits [${logits.map((v) => v.toFixed(4)).join(' ')} …]): ${same}/${n} bit-exact against the whole model in one onnxruntime session`);
  if (same !== n) throw new EparaError({ code: 'infer.stage_mismatch', reason: `${n - same} of ${n} split-model answers differ from the whole model`, hint: 'this is a partitioner bug: report it with the model' });
}

export const pipelineStep: DemoStep = { name: 'pipeline', run };
