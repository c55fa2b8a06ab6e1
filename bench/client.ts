/**
 * Device-side costs, each beside a baseline measured in the same run:
 *  - batching: requests/s through the inference queue with batch 8 vs batch 1 (same real ORT session);
 *  - queue + tensor conversion overhead vs a bare onnxruntime session.run per request;
 *  - artifact receive (ArtifactStore: go-back-N append, running SHA-256, checkpoints every 4 MiB
 *    or 1 s, verify and rename) vs a plain write + SHA-256 of the same bytes; target ≥ 0.5×.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ArtifactStore } from '../src/client/artifact-store.js';
import { ServiceQueue } from '../src/client/inference.js';
import { OnnxModel } from '../src/client/onnx-runtime.js';
import { tensorFrom } from '../src/protocol/index.js';

const MODEL = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'fixtures', 'models', 'mlp-classifier.onnx');

async function queueRate(model: OnnxModel, batch: number, n: number): Promise<number> {
  const q = new ServiceQueue('cls', model, { batch, maxQueue: n + 1 });
  const x = tensorFrom('input', new Float32Array(16).fill(0.25), [1, 16]);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => q.submit({ requestId: i, inputs: [x] })));
  return n / ((performance.now() - t0) / 1000);
}

async function bareRate(n: number): Promise<number> {
  const s = await ort.InferenceSession.create(MODEL, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = { input: new ort.Tensor('float32', new Float32Array(16).fill(0.25), [1, 16]) };
  await s.run(feeds);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await s.run(feeds);
  const r = n / ((performance.now() - t0) / 1000);
  await s.release();
  return r;
}

async function storeRate(bytes: Uint8Array, chunk: number): Promise<{ store: number; plain: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'epara-bench-'));
  try {
    const sha256 = createHash('sha256').update(bytes).digest();
    let best = { store: 0, plain: 0 };
    // Interleaved rounds, best of each: a shared 2-core host is noisy.
    for (let round = 0; round < 3; round++) {
      const store = new ArtifactStore(dir, { capacityBytes: 4 * bytes.length, maxArtifactBytes: 2 * bytes.length });
      let t0 = performance.now();
      await store.begin({ deploymentId: round + 1, service: `s${round}`, version: '1', kind: 'blob', size: bytes.length, sha256 });
      for (let off = 0; off < bytes.length; off += chunk) await store.write(round + 1, off, bytes.subarray(off, off + chunk));
      await store.finish(round + 1);
      const storeS = (performance.now() - t0) / 1000;
      await store.remove(`s${round}`);
      t0 = performance.now();
      writeFileSync(join(dir, 'plain'), bytes);
      createHash('sha256').update(bytes).digest();
      const plainS = (performance.now() - t0) / 1000;
      rmSync(join(dir, 'plain'));
      best = { store: Math.max(best.store, bytes.length / storeS), plain: Math.max(best.plain, bytes.length / plainS) };
    }
    return best;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const model = await OnnxModel.load(MODEL);
  await model.warmUp();
  const n = 2000;
  // A shared 2-core host is noisy: each figure is the best of three interleaved rounds.
  const best = { b1: 0, b8: 0, bare: 0 };
  await queueRate(model, 1, 500); // JIT and allocator warm-up
  await bareRate(500);
  for (let round = 0; round < 3; round++) {
    best.b1 = Math.max(best.b1, await queueRate(model, 1, n));
    best.b8 = Math.max(best.b8, await queueRate(model, 8, n));
    best.bare = Math.max(best.bare, await bareRate(n));
  }
  const { b1, b8, bare } = best;
  const bytes = new Uint8Array(64 << 20).map((_, i) => (i * 7 + (i >>> 12)) & 0xff);
  const st = await storeRate(bytes, 4096);
  await model.release();
  const rows: Array<[string, string, string, string, string]> = [
    ['inference queue, batch 8 (req/s)', b8.toFixed(0), `batch 1: ${b1.toFixed(0)}`, `${(b8 / b1).toFixed(2)}×`, ''],
    ['queue + tensor conversion, batch 1 (req/s)', b1.toFixed(0), `bare ort run: ${bare.toFixed(0)}`, `${(b1 / bare).toFixed(2)}×`, `target ≥ 0.80×: ${b1 / bare >= 0.8 ? 'target met' : 'NOT MET'}`],
    [
      'artifact receive, 64 MiB in 4 KiB chunks (MiB/s)',
      (st.store / 2 ** 20).toFixed(1),
      `plain write+hash: ${(st.plain / 2 ** 20).toFixed(1)}`,
      `${(st.store / st.plain).toFixed(2)}×`,
      `target ≥ 0.50×: ${st.store / st.plain >= 0.5 ? 'target met' : 'NOT MET'}`,
    ],
  ];
  const w = [0, 1, 2, 3, 4].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((v, c) => v.padEnd(w[c]!)).join('  '));
}
