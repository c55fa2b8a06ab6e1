/**
 * A simulation worker process for the run pool (run-pool.ts): it receives `RunJob`s over IPC, one
 * at a time, runs each (one policy at one load) and sends back a `RunReply`. It stays up for the
 * next job: a fresh process per run pays V8's warm-up every time, which made a default `epara sim`
 * sweep (40 runs of a few hundred ms) take 19.0 s against 7.6 s in one process.
 *
 * It keeps the last plan (the parsed options and workload source) and the last load's workload,
 * so consecutive jobs of one sweep at the same load (the pool hands them out in sweep order) build
 * it once, as `runScenario` does.
 */
import { isEparaError } from '../errors.js';
import type { RunMetrics } from './metrics.js';
import { planScenario, runPlanned, workloadAt, type ScenarioOptions, type ScenarioPlan } from './scenario.js';

export interface RunJob {
  /** The scenario's options without the callback (`onRun` cannot cross a process boundary). */
  opts: Omit<ScenarioOptions, 'onRun'>;
  load: number;
  policy: string;
}

export type RunReply =
  | { ok: { metrics: RunMetrics; notes: string[] } }
  /** `error` is an EparaError's class name and its toJSON(); `internal` any other throw. */
  | { error: { name: string; init: Record<string, unknown> } }
  | { internal: string };

let last: { key: string; plan: ScenarioPlan; load?: number; at?: ReturnType<typeof workloadAt> } | null = null;

function run(job: RunJob): RunReply {
  try {
    // The plan holds every policy; the job's is picked by name below.
    const { loads: _sweep, ...recipe } = job.opts;
    const key = JSON.stringify(recipe);
    if (last?.key !== key) last = { key, plan: planScenario({ ...recipe, loads: [job.load] }) };
    if (last.load !== job.load) {
      last.at = undefined; // let the previous load's workload go before building the next
      last.at = workloadAt(last.plan, job.load);
      last.load = job.load;
    }
    const policy = last.plan.policies.find((p) => p.name === job.policy);
    if (!policy) throw new Error(`policy ${job.policy} is not among the planned ones`);
    return { ok: { metrics: runPlanned(last.plan, job.opts, job.load, policy, last.at!), notes: last.at!.workload.notes } };
  } catch (e) {
    if (isEparaError(e)) return { error: { name: e.name, init: e.toJSON() } };
    return { internal: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

// The parent went away (killed, or done with the pool): nobody will read another result.
process.on('disconnect', () => process.exit(0));
process.on('message', (job: RunJob) => {
  process.send!(run(job));
});
