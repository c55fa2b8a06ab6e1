/**
 * One simulator-speed run of bench/scheduler.ts in a process of its own: the whole Azure conv
 * trace at ×1 with the default camera mix, one policy on one fleet size. Prints one JSON line
 * (requests, wall seconds, peak RSS). A fresh process per run is what a user's `epara sim` of one
 * configuration gets; runs of several policies in one process slow each other down (a second
 * round-robin hour on 2,000 devices after an EPARA one: 29.7 s against 21.9 s; likely shared call
 * sites turning polymorphic, not pinned down), which would make the figure depend on what ran
 * before it.
 *
 *   npx tsx bench/scheduler-procs/sim-hour-child.ts DEVICES POLICY
 */
import { AZURE_CONV, runScenario } from '../../src/sim/scenario.js';

const [devices, policy] = [Number(process.argv[2]), process.argv[3] ?? ''];
const t0 = process.hrtime.bigint();
const r = runScenario({ devices, durationSec: Math.floor(AZURE_CONV.spanSec), loads: [1], policies: [policy] });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ requests: r.results[0]!.requests, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
