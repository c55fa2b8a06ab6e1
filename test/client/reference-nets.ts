/**
 * Plain-TypeScript forward passes of the fixture models, independent of onnxruntime: weights are
 * read back from the committed .onnx files with onnx-proto and every layer is written out by hand.
 * Computed in float64; the ort results (float32) must agree within a small tolerance.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface Weights {
  get(name: string): { dims: number[]; values: number[] };
}

export function readWeights(path: string): Weights {
  const m = onnx.ModelProto.decode(readFileSync(path));
  const map = new Map<string, { dims: number[]; values: number[] }>();
  for (const t of m.graph?.initializer ?? []) {
    const raw = t.rawData as Uint8Array;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const values: number[] = [];
    if (t.dataType === onnx.TensorProto.DataType.FLOAT) for (let i = 0; i < raw.byteLength; i += 4) values.push(view.getFloat32(i, true));
    else if (t.dataType === onnx.TensorProto.DataType.INT64) for (let i = 0; i < raw.byteLength; i += 8) values.push(Number(view.getBigInt64(i, true)));
    else throw new Error(`unexpected initializer type ${t.dataType}`);
    map.set(t.name as string, { dims: (t.dims ?? []).map(Number), values });
  }
  return {
    get(name) {
      const w = map.get(name);
      if (!w) throw new Error(`no initializer ${name}`);
      return w;
    },
  };
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** y[o] = sum_i x[i] * W[i][o] + b[o], W stored row-major [in, out]. */
function dense(x: number[], w: number[], b: number[] | null, inN: number, outN: number): number[] {
  const y = new Array<number>(outN).fill(0);
  for (let o = 0; o < outN; o++) {
    let s = b ? b[o]! : 0;
    for (let i = 0; i < inN; i++) s += x[i]! * w[i * outN + o]!;
    y[o] = s;
  }
  return y;
}

const relu = (v: number[]): number[] => v.map((x) => (x > 0 ? x : 0));

/** One sample of 16 features → { logits[4], class }. */
export function mlpReference(w: Weights, x: number[]): { logits: number[]; cls: number } {
  const W1 = w.get('W1'), B1 = w.get('B1'), W2 = w.get('W2'), B2 = w.get('B2');
  const [I, H] = W1.dims as [number, number];
  const C = W2.dims[1]!;
  const h = relu(dense(x, W1.values, B1.values, I, H));
  const logits = dense(h, W2.values, B2.values, H, C);
  return { logits, cls: argmax(logits) };
}

/** One 8x8 image (row-major) → { scores[2][64], mask[64] }. */
export function segReference(w: Weights, img: number[], H = 8, W = 8): { scores: number[][]; mask: number[] } {
  const CW1 = w.get('CW1'), CB1 = w.get('CB1'), CW2 = w.get('CW2'), CB2 = w.get('CB2');
  const K = CW1.dims[0]!, C = CW2.dims[0]!;
  const feat: number[][] = [];
  for (let k = 0; k < K; k++) {
    const f = new Array<number>(H * W).fill(0);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        let s = CB1.values[k]!;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy, xx = x + dx;
            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue; // zero padding
            s += img[yy * W + xx]! * CW1.values[k * 9 + (dy + 1) * 3 + (dx + 1)]!;
          }
        f[y * W + x] = s > 0 ? s : 0;
      }
    feat.push(f);
  }
  const scores: number[][] = [];
  for (let c = 0; c < C; c++) {
    const s = new Array<number>(H * W).fill(0);
    for (let p = 0; p < H * W; p++) {
      let v = CB2.values[c]!;
      for (let k = 0; k < K; k++) v += feat[k]![p]! * CW2.values[c * K + k]!;
      s[p] = v;
    }
    scores.push(s);
  }
  const mask = new Array<number>(H * W).fill(0).map((_, p) => argmax(scores.map((s) => s[p]!)));
  return { scores, mask };
}

/** One context of 8 token ids → { logits[32] of the last position, next }. */
export function decoderReference(w: Weights, tokens: number[]): { logits: number[]; next: number } {
  const EMB = w.get('EMB'), POS = w.get('POS');
  const [V, D] = EMB.dims as [number, number];
  const T = tokens.length;
  const F = w.get('F1').dims[1]!;
  const x = tokens.map((t, i) => Array.from({ length: D }, (_, d) => EMB.values[t * D + d]! + POS.values[i * D + d]!));
  const proj = (m: number[][], name: string, outN: number) => m.map((r) => dense(r, w.get(name).values, null, r.length, outN));
  const q = proj(x, 'WQ', D), k = proj(x, 'WK', D), v = proj(x, 'WV', D);
  const scale = w.get('SCALE').values[0]!;
  const ctx = q.map((qi, i) => {
    // causal: only j <= i, then softmax
    const s = k.slice(0, i + 1).map((kj) => qi.reduce((a, qd, d) => a + qd * kj[d]!, 0) * scale);
    const m = Math.max(...s);
    const e = s.map((z) => Math.exp(z - m));
    const z = e.reduce((a, b) => a + b, 0);
    return Array.from({ length: D }, (_, d) => e.reduce((a, ej, j) => a + (ej / z) * v[j]![d]!, 0));
  });
  const attnOut = proj(ctx, 'WO', D);
  const h = x.map((r, i) => r.map((val, d) => val + attnOut[i]![d]!));
  const ff = h.map((r) => relu(dense(r, w.get('F1').values, w.get('FB1').values, D, F)));
  const ff2 = proj(ff, 'F2', D);
  const h2 = h.map((r, i) => r.map((val, d) => val + ff2[i]![d]!));
  const logits = dense(h2[T - 1]!, w.get('WOUT').values, null, D, V);
  return { logits, next: argmax(logits) };
}
