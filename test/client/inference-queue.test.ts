import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ServiceQueue } from '../../src/client/inference.js';
import { handlerRunner, type InferContext } from '../../src/client/runner.js';
import { OnnxModel } from '../../src/client/onnx-runtime.js';
import { tensorFrom, tensorValues } from '../../src/protocol/tensor.js';
import type { Tensor } from '../../src/protocol/tensor.js';
import { ConfigError, InferError } from '../../src/errors.js';
import { fixturesDir } from '../../scripts/gen-models.js';
import { mlpReference, readWeights } from './reference-nets.js';

/** A handler whose runs finish only when the test says so: timing without wall-clock assertions. */
function gatedHandler() {
  const runs: Array<{ inputs: Tensor[][]; ctx: InferContext; release: () => void }> = [];
  let notify: (() => void) | undefined;
  const runner = handlerRunner(
    async (inputs, ctx) => {
      await new Promise<void>((r) => { runs.push({ inputs: [inputs], ctx, release: r }); notify?.(); });
      return [tensorFrom('echo', Float32Array.from(tensorValues(inputs[0]!) as Float32Array), inputs[0]!.shape)];
    },
    {
      batchHandler: async (batch, ctx) => {
        await new Promise<void>((r) => { runs.push({ inputs: batch, ctx, release: r }); notify?.(); });
        return batch.map((inputs) => [tensorFrom('echo', Float32Array.from(tensorValues(inputs[0]!) as Float32Array), inputs[0]!.shape)]);
      },
    },
  );
  const nextRun = async () => {
    const have = runs.length;
    while (runs.length <= have) await new Promise<void>((r) => (notify = r));
    return runs[runs.length - 1]!;
  };
  return { runner, runs, nextRun };
}

const x = (v: number) => [tensorFrom('x', new Float32Array([v]), [1, 1])];
const val = (t: Tensor) => (tensorValues(t) as Float32Array)[0];

describe('ServiceQueue', () => {
  it('answers a single request with its outputs and timing', async () => {
    const q = new ServiceQueue('echo', handlerRunner((inputs) => inputs));
    const r = await q.submit({ requestId: 1, inputs: x(3) });
    expect(val(r.outputs[0]!)).toBe(3);
    expect(r.queueUs).toBeGreaterThanOrEqual(0);
    expect(r.computeUs).toBeGreaterThanOrEqual(0);
    expect(q.takeCounters()).toMatchObject({ served: 1, violations: 0, queueLen: 0 });
    expect(q.takeCounters().served).toBe(0);
  });

  it('batches requests that queue up while a run is in progress, up to the batch size', async () => {
    const g = gatedHandler();
    const q = new ServiceQueue('svc', g.runner, { batch: 3 });
    const first = q.submit({ requestId: 1, inputs: x(1) });
    const run1 = await g.nextRun();
    expect(run1.inputs.length).toBe(1);
    const rest = [2, 3, 4, 5].map((i) => q.submit({ requestId: i, inputs: x(i) }));
    expect(q.peekCounters().queueLen).toBe(5);
    const run2p = g.nextRun();
    run1.release();
    const run2 = await run2p;
    expect(run2.inputs.length).toBe(3);
    expect(run2.ctx.batch).toBe(3);
    const run3p = g.nextRun();
    run2.release();
    const run3 = await run3p;
    expect(run3.inputs.length).toBe(1);
    run3.release();
    const results = await Promise.all([first, ...rest]);
    expect(results.map((r) => val(r.outputs[0]!))).toEqual([1, 2, 3, 4, 5]);
    expect(q.takeCounters()).toMatchObject({ served: 5, violations: 0, batch: 3 });
  });

  it('with batch 1 never groups requests', async () => {
    const g = gatedHandler();
    const q = new ServiceQueue('svc', g.runner);
    const ps = [1, 2, 3].map((i) => q.submit({ requestId: i, inputs: x(i) }));
    for (let i = 0; i < 3; i++) {
      const run = await (g.runs.length > i ? Promise.resolve(g.runs[i]!) : g.nextRun());
      expect(run.inputs.length).toBe(1);
      run.release();
    }
    expect((await Promise.all(ps)).length).toBe(3);
  });

  it('drops a queued request at its deadline without running it, and counts a violation', async () => {
    const g = gatedHandler();
    const q = new ServiceQueue('svc', g.runner);
    const blocker = q.submit({ requestId: 1, inputs: x(1) });
    const run1 = await g.nextRun();
    const late = q.submit({ requestId: 2, inputs: x(2), deadlineUs: 20_000 });
    const err = await late.catch((e) => e);
    expect(err).toBeInstanceOf(InferError);
    expect(err.code).toBe('infer.deadline');
    expect(err.wire).toBe(501);
    expect(err.details.state).toBe('queued');
    run1.release();
    await blocker;
    await new Promise((r) => setImmediate(r));
    expect(g.runs.length).toBe(1); // request 2 never ran
    expect(q.takeCounters()).toMatchObject({ served: 1, violations: 1 });
  });

  it('answers infer.deadline while running, aborts the handler signal and discards the late result', async () => {
    const g = gatedHandler();
    const q = new ServiceQueue('svc', g.runner);
    const p = q.submit({ requestId: 1, inputs: x(1), deadlineUs: 20_000 });
    const run = await g.nextRun();
    const err = await p.catch((e) => e);
    expect(err.code).toBe('infer.deadline');
    expect(err.details.state).toBe('running');
    expect(run.ctx.signal.aborted).toBe(true);
    run.release();
    await new Promise((r) => setImmediate(r));
    expect(q.takeCounters()).toMatchObject({ served: 0, violations: 1 });
  });

  it('cancels queued and running requests with infer.cancelled; others in the batch still complete', async () => {
    const g = gatedHandler();
    const q = new ServiceQueue('svc', g.runner, { batch: 4 });
    const a = q.submit({ requestId: 1, inputs: x(1) });
    const run1 = await g.nextRun();
    const b = q.submit({ requestId: 2, inputs: x(2) });
    const c = q.submit({ requestId: 3, inputs: x(3) });
    const d = q.submit({ requestId: 4, inputs: x(4) });
    expect(q.cancel(2)).toBe(true); // queued
    expect(q.cancel(2)).toBe(false);
    expect(q.cancel(99)).toBe(false);
    expect(q.cancel(1)).toBe(true); // running
    await expect(a).rejects.toMatchObject({ code: 'infer.cancelled', wire: 503 });
    await expect(b).rejects.toMatchObject({ code: 'infer.cancelled' });
    expect(run1.ctx.signal.aborted).toBe(true);
    const run2p = g.nextRun();
    run1.release();
    const run2 = await run2p;
    expect(run2.inputs.map((i) => val(i[0]!))).toEqual([3, 4]);
    expect(q.cancel(3)).toBe(true);
    expect(run2.ctx.signal.aborted).toBe(false); // request 4 still wants the result
    run2.release();
    await expect(c).rejects.toMatchObject({ code: 'infer.cancelled' });
    expect(val((await d).outputs[0]!)).toBe(4);
    expect(q.takeCounters()).toMatchObject({ served: 1, violations: 0 });
  });

  it('refuses requests beyond maxQueue with infer.overloaded, and duplicate ids with infer.bad_input', async () => {
    const g = gatedHandler();
    const q = new ServiceQueue('svc', g.runner, { maxQueue: 2 });
    const first = q.submit({ requestId: 1, inputs: x(1) });
    const run = await g.nextRun();
    const queued = [q.submit({ requestId: 2, inputs: x(2) }), q.submit({ requestId: 3, inputs: x(3) })];
    await expect(q.submit({ requestId: 4, inputs: x(4) })).rejects.toMatchObject({ code: 'infer.overloaded', wire: 504 });
    await expect(q.submit({ requestId: 2, inputs: x(2) })).rejects.toMatchObject({ code: 'infer.bad_input' });
    expect(q.peekCounters().violations).toBe(1);
    q.close();
    await expect(first).rejects.toMatchObject({ code: 'infer.unknown_service' });
    await expect(Promise.all(queued)).rejects.toMatchObject({ code: 'infer.unknown_service' });
    run.release();
    await expect(q.submit({ requestId: 9, inputs: x(9) })).rejects.toMatchObject({ code: 'infer.unknown_service' });
  });

  it('turns a throwing handler into infer.runtime and counts it; validates settings', async () => {
    const q = new ServiceQueue('svc', handlerRunner(() => { throw new TypeError('boom'); }));
    await expect(q.submit({ requestId: 1, inputs: x(1) })).rejects.toMatchObject({ code: 'infer.runtime' });
    expect(q.takeCounters().violations).toBe(1);
    expect(() => q.configure({ batch: 0 })).toThrow(ConfigError);
    expect(() => new ServiceQueue('s', handlerRunner((i) => i), { maxQueue: 1.5 })).toThrow(ConfigError);
  });

  it('batches real onnxruntime runs: 4 requests queued together are served by one session run', async () => {
    const path = join(fixturesDir(), 'mlp-classifier.onnx');
    const model = await OnnxModel.load(path);
    let runs = 0;
    const counting = { run: model.run.bind(model), runBatch: async (b: Tensor[][]) => { runs++; return model.runBatch(b); } };
    const q = new ServiceQueue('cls', counting, { batch: 4 });
    const rows = [0, 1, 2, 3].map((k) => Array.from({ length: 16 }, (_, i) => Math.sin(i * (k + 1))));
    const rs = await Promise.all(rows.map((r, i) => q.submit({ requestId: i, inputs: [tensorFrom('input', Float32Array.from(r), [1, 16])] })));
    expect(runs).toBe(1);
    const w = readWeights(path);
    rs.forEach((r, i) => expect(Number((tensorValues(r.outputs[1]!) as BigInt64Array)[0])).toBe(mlpReference(w, rows[i]!).cls));
    await model.release();
  });

  it('idle(runner) waits for the runs still using a replaced runner, so its session can be released safely', async () => {
    const g = gatedHandler();
    const q = new ServiceQueue('svc', g.runner);
    const p = q.submit({ requestId: 1, inputs: x(1) });
    const run = await g.nextRun();
    q.setRunner(handlerRunner((inputs) => inputs));
    let idle = false;
    const waiting = q.idle(g.runner).then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(idle).toBe(false);
    run.release();
    await p;
    await waiting;
    expect(idle).toBe(true);
    await q.idle(g.runner); // already idle: resolves at once
    const r2 = await q.submit({ requestId: 2, inputs: x(2) });
    expect(val(r2.outputs[0]!)).toBe(2); // served by the new runner
  });
});
