/**
 * How much longer than a mean-size request a batch of requests of mixed sizes takes, as each
 * policy's handler forms its batches. A request-level batch holds its device slot until its
 * longest request is done, so the planner plans a unit of batch b at b / (t(b) · spread).
 *
 *  - FCFS batching (the baselines' handlers): the batch is the next b requests, whatever their
 *    sizes, so the spread is the expected largest of b independent sizes over the mean
 *    (`fcfsSpread`, exact over the sizes given).
 *  - Length bucketing (EPARA's handler, request-handler.ts `sizeAwareBatch`): the queue's head
 *    leads and only requests at most SIZE_RATIO × its size join, looking at most 4 batches ahead.
 *    Its batches do not wait for the longest of b random requests, so charging EPARA's planner
 *    the FCFS spread undervalued every batched GPU unit of an LLM against unbatched ones (4.8–5.7
 *    on traces with a heavy size tail): it moved chat-7b onto batch-1 Jetsons and gave the GPU
 *    servers to chat-13b pipelines (docs/scheduling.md §7). `bucketedSpread` replays that rule
 *    on the size distribution: a lookahead window of 4b requests drawn from the sizes (a fixed
 *    seed: the planner stays deterministic), the head the oldest, members in queue order while
 *    at most SIZE_RATIO × the head, the window refilled; the spread is the mean batch's longest
 *    request over the mean size of the requests the batches served. (Measured in the simulator on
 *    a code-like trace, EPARA's chat batches ran at 1.1–1.5× their members' mean size, against
 *    5.3 for the FCFS formula.)
 * Pure; the sizes are the workload's own (computed from the trace in use, never constants).
 */
import { SIZE_RATIO } from './request-handler.js';

/** Expected largest of `b` independent draws from `xs` over their mean (≥ 1; 1 when `xs` is empty). */
export function fcfsSpread(xs: readonly number[], b: number): number {
  if (xs.length === 0) return 1;
  const sorted = [...xs].sort((p, q) => p - q);
  const n = sorted.length;
  let mean = 0;
  for (const x of sorted) mean += x;
  mean /= n;
  let e = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const f = ((i + 1) / n) ** b;
    e += sorted[i]! * (f - prev);
    prev = f;
  }
  return mean > 0 ? Math.max(1, e / mean) : 1;
}

/** mulberry32, local so the planner's estimate does not depend on the simulator's generators. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The spread of batches of `b` formed by length bucketing over sizes drawn from `xs` (see the header). */
export function bucketedSpread(xs: readonly number[], b: number, o: { ratio?: number; lookahead?: number; batches?: number } = {}): number {
  if (xs.length === 0 || b <= 1) return 1;
  const ratio = o.ratio ?? SIZE_RATIO;
  const window = (o.lookahead ?? 4) * b;
  const batches = o.batches ?? 4000;
  const next = rng(0x5eed);
  const draw = (): number => xs[Math.floor(next() * xs.length)]!;
  const queue: number[] = Array.from({ length: window }, draw);
  let sumMax = 0;
  let sumN = 0;
  let sumSize = 0;
  for (let k = 0; k < batches; k++) {
    const head = queue[0]!;
    let longest = head;
    let n = 1;
    sumSize += head;
    const keep: number[] = [];
    for (let i = 1; i < queue.length; i++) {
      const x = queue[i]!;
      if (n < b && x <= ratio * head) {
        n++;
        sumSize += x;
        if (x > longest) longest = x;
      } else keep.push(x);
    }
    sumMax += longest;
    sumN += n;
    while (keep.length < window) keep.push(draw());
    queue.length = 0;
    queue.push(...keep);
  }
  // The longest request of a batch over the mean size of the requests it served: a batch of n
  // costs t(n) · longest, so this is the factor on the planner's b / t(b) when batches fill.
  return Math.max(1, sumMax / batches / (sumSize / sumN));
}
