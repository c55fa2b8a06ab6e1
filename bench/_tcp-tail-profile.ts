/**
 * Where the TCP request round trip's tail comes from (issue 22): not a benchmark (run.ts skips
 * `_` files), a probe. Runs N sequential FrameLink PING/PONG over real loopback TCP and reports,
 * beside p50/p99, the GC events (perf_hooks 'gc' entries, by kind), the event-loop delay
 * histogram (monitorEventLoopDelay, 1 ms resolution: how late the loop ran a 1 ms timer, i.e.
 * stalls that are not our own work) and how many slow requests (> 0.5 ms) overlap a GC.
 *
 *   npx tsx bench/_tcp-tail-profile.ts [N]                           # default 10000
 *   node --cpu-prof --cpu-prof-dir=/tmp --import tsx bench/_tcp-tail-profile.ts
 *
 * Findings are written up in docs/performance.md ("TCP round trip").
 */
import os from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { FrameLink } from '../src/transport/frame-link.js';
import { connectTcp, listenTcp } from '../src/transport/tcp.js';

const N = Math.max(1000, Number(process.argv[2] ?? 10000) || 10000);
const gcSpans: Array<[number, number]> = [];
const gcKinds: Record<string, number> = {};
const kindName: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak-callbacks' };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcSpans.push([e.startTime, e.startTime + e.duration]);
    const k = kindName[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
    gcKinds[k] = (gcKinds[k] ?? 0) + 1;
  }
}).observe({ entryTypes: ['gc'] });

const l = await listenTcp({ port: 0 });
l.on('connection', (s) => void new FrameLink(s));
const link = new FrameLink(await connectTcp({ host: '127.0.0.1', port: l.port }));
const payload = new Uint8Array(16).fill(7);
for (let i = 0; i < 200; i++) await link.request({ type: 'PING', data: payload });
gcSpans.length = 0;
for (const k of Object.keys(gcKinds)) delete gcKinds[k];
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
const times: number[] = [];
const slow: Array<[number, number]> = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  await link.request({ type: 'PING', data: payload });
  const d = performance.now() - t0;
  times.push(d);
  if (d > 0.5) slow.push([t0, t0 + d]);
}
loopDelay.disable();
await new Promise((r) => setTimeout(r, 50)); // let the last GC entries arrive
const slowWithGc = slow.filter(([a, b]) => gcSpans.some(([s, e]) => s < b && e > a)).length;
times.sort((a, b) => a - b);
const us = (ms: number): string => (ms * 1000).toFixed(0);
const gcMs = gcSpans.map(([s, e]) => e - s);
console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${N} PING/PONG over loopback TCP`);
console.log(`round trip p50 ${us(times[Math.floor(N / 2)]!)} µs, p99 ${us(times[Math.floor(N * 0.99)]!)} µs, max ${us(times[N - 1]!)} µs`);
console.log(`GC: ${gcSpans.length} events ${JSON.stringify(gcKinds)}, ${gcMs.reduce((a, b) => a + b, 0).toFixed(1)} ms in all, longest ${Math.max(0, ...gcMs).toFixed(2)} ms`);
console.log(`event-loop delay (1 ms timer lateness) p50 ${(loopDelay.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(2)} ms, max ${(loopDelay.max / 1e6).toFixed(2)} ms`);
console.log(`requests over 0.5 ms: ${slow.length}, of which overlap a GC: ${slowWithGc}`);
await link.close();
await l.close();
process.exit(0);
