import { liveRun } from './live-run.js';
import { liveFleet, liveWorkloadAt } from './scenario.js';
const o = { devices: Number(process.env.D ?? 48), camFlowsPerSite: 2, durationSec: Number(process.env.DUR ?? 60), seed: 1 };
const load = Number(process.env.L ?? 1);
const { services, workload } = liveWorkloadAt(o, load);
const r = await liveRun({ policy: process.env.P ?? 'epara', load, fleet: liveFleet(o), services, workload, timeScale: Number(process.env.K ?? 10), seed: 1, log: console.log });
console.log(JSON.stringify({ setup: r.setupSec, wall: r.wallSec, flows: r.flows, by: Object.fromEntries(Object.entries(r.metrics.byService).map(([k, s]) => [k, [s.total, s.attainment.toFixed(3), s.dropped]])) }));
process.exit(0);
