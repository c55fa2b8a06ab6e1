/**
 * Where to cut a topologically ordered graph into k stages. A cut at position p puts nodes
 * [0, p) before it; the tensors crossing it are those written before p and read at or after p.
 * Among the cuts whose stages are within `tolerance` of the shares asked for (the allocator's
 * splitModel shares: each device's speed, capped by its memory), the one carrying the fewest and
 * smallest activations wins; outside the tolerance, balance dominates. A stage over its memory
 * cap, an empty stage, or a cut through a tensor of unknown type is never chosen.
 * Dynamic programming over (cut index, position): O(k · n²). Pure.
 */
export interface CutInput {
  /** Per node in order: its weight (bytes of model it brings; > 0). */
  weights: readonly number[];
  /** Tensors that could cross a cut: written at `from` (-1: never crosses), last read at `to` (positions in order). */
  tensors: ReadonlyArray<{ from: number; to: number; bytes: number | undefined; typed: boolean }>;
  // `typed` false: never cut through it (unknown element type, or a pattern onnxruntime fuses).
  /** Share of the model each stage should hold (sums to 1). */
  shares: readonly number[];
  /** Most weight each stage may hold (memory), or undefined for no cap. */
  caps?: ReadonlyArray<number | undefined>;
  /** Balance slack as a fraction of the whole model within which fewer / smaller crossings win (default 0.1). */
  tolerance?: number;
}

export interface CutChoice {
  /** k − 1 positions, increasing. */
  cuts: number[];
  stageWeights: number[];
  /** Per cut: tensors and bytes crossing it. */
  crossing: Array<{ count: number; bytes: number }>;
}

const COUNT_COST = 0.2;

export function chooseCuts(inp: CutInput): CutChoice | { impossible: string } {
  const n = inp.weights.length;
  const k = inp.shares.length;
  if (k < 2) return { impossible: 'fewer than two stages asked for' };
  if (n < k) return { impossible: `${n} node(s) cannot make ${k} stages` };
  const W = [0];
  for (const w of inp.weights) W.push(W[W.length - 1]! + w);
  const total = W[n]!;
  const tol = inp.tolerance ?? 0.1;
  const count = new Array<number>(n + 1).fill(0);
  const bytes = new Array<number>(n + 1).fill(0);
  const blocked = new Array<boolean>(n + 1).fill(false);
  const knownMax = Math.max(1, ...inp.tensors.map((t) => t.bytes ?? 0));
  for (const t of inp.tensors) {
    if (t.from < 0) continue;
    for (let p = t.from + 1; p <= t.to; p++) {
      count[p]!++;
      bytes[p]! += t.bytes ?? knownMax;
      if (!t.typed) blocked[p] = true;
    }
  }
  const maxBytes = Math.max(1, ...bytes);
  const cutCost = (p: number) => (blocked[p] ? Infinity : bytes[p]! / maxBytes + COUNT_COST * count[p]!);
  const targets = inp.shares.map((s) => s * total);
  const stageCost = (j: number, from: number, to: number): number => {
    if (to <= from) return Infinity;
    const w = W[to]! - W[from]!;
    const cap = inp.caps?.[j];
    if (cap !== undefined && w > cap) return Infinity;
    const off = Math.abs(w - targets[j]!) / total;
    return off <= tol ? off : tol + (off - tol) * 100;
  };
  // dp[j][p]: best cost of stages 0..j with stage j ending at p (cut j at p).
  const dp: number[][] = [];
  const back: number[][] = [];
  for (let j = 0; j < k - 1; j++) {
    dp.push(new Array<number>(n + 1).fill(Infinity));
    back.push(new Array<number>(n + 1).fill(-1));
    for (let p = j + 1; p <= n - (k - 1 - j); p++) {
      const cc = cutCost(p);
      if (cc === Infinity) continue;
      if (j === 0) {
        dp[0]![p] = stageCost(0, 0, p) + cc;
        continue;
      }
      for (let q = j; q < p; q++) {
        const prev = dp[j - 1]![q]!;
        if (prev === Infinity) continue;
        const c = prev + stageCost(j, q, p) + cc;
        if (c < dp[j]![p]!) {
          dp[j]![p] = c;
          back[j]![p] = q;
        }
      }
    }
  }
  let best = Infinity;
  let at = -1;
  for (let p = k - 1; p < n; p++) {
    const prev = dp[k - 2]![p]!;
    if (prev === Infinity) continue;
    const c = prev + stageCost(k - 1, p, n);
    if (c < best) {
      best = c;
      at = p;
    }
  }
  if (at < 0 || best === Infinity) {
    const heaviest = Math.max(...inp.weights);
    const capped = inp.caps?.filter((c): c is number => c !== undefined) ?? [];
    if (capped.length && heaviest > Math.max(...capped)) return { impossible: `one node brings ${heaviest} bytes of weights, more than any stage may hold (${Math.max(...capped)})` };
    if (capped.length === k && capped.reduce((a, b) => a + b, 0) < total) return { impossible: `the stages may hold ${capped.reduce((a, b) => a + b, 0)} bytes in all, the model has ${total}` };
    return { impossible: 'every way to cut it puts a stage over its memory, or cuts a tensor of unknown type or inside a pattern onnxruntime fuses' };
  }
  const cuts = [at];
  for (let j = k - 2; j > 0; j--) cuts.unshift(back[j]![cuts[0]!]!);
  const bounds = [0, ...cuts, n];
  return {
    cuts,
    stageWeights: inp.shares.map((_, j) => W[bounds[j + 1]!]! - W[bounds[j]!]!),
    crossing: cuts.map((p) => ({ count: count[p]!, bytes: bytes[p]! })),
  };
}
