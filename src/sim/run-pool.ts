/**
 * A scenario's runs in worker processes, several at a time (`epara sim --workers N`, the benches).
 *
 * Runs are independent pure functions of (options, load, policy), so N cores can run N at once
 * where `runScenario` runs them one after the other in this process (on a 2-core VM, 1.5× on a
 * sweep of 240 s runs; nothing on one of runs of a fraction of a second, where each worker's V8
 * warm-up is as long as its share of the work). A worker is
 * a child process (run-child.ts) that runs one job at a time and stays up for the next (a fresh
 * process per run pays V8's warm-up each time). Jobs go out in sweep order (load-major, then
 * policy), as `runScenario` runs them.
 *
 * The results are the same as `runScenario`'s, byte for byte and in the same order, and `onRun` is
 * called in that order too, so the output does not depend on which run finished first. Option
 * and input errors are raised here, before any run starts (`planScenario`); an error a worker
 * meets (a service that is invalid only at some load) comes back as the same typed error; a worker
 * that dies stops the call (the other workers are killed) with `internal.sim_run`, naming the
 * run's load and policy.
 *
 * What a worker ran before can slow its next run (a round-robin hour on 2,000 devices: 29.7 s
 * after an EPARA hour in the same process, 21.9 s in a fresh one). Speed figures that must not
 * depend on run order use a fresh process per run (bench/scheduler-procs/sim-hour-child.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, EparaError, InferError, SchedulerError, type EparaErrorInit } from '../errors.js';
import { resolveNumber, type NumberOptionSpec } from '../options.js';
import type { RunMetrics } from './metrics.js';
import type { RunJob, RunReply } from './run-child.js';
import { loadNotes, planScenario, resolvePolicies, runPlanned, runScenario, scenarioResult, workloadAt, type ScenarioOptions, type ScenarioPlan, type ScenarioResult } from './scenario.js';

/** Range of `workers`: 0 runs in this process (`runScenario`); the default is one per core. */
export const WORKERS: NumberOptionSpec = { min: 0, max: 64, integer: true, default: Math.min(64, availableParallelism()) };

const here = fileURLToPath(import.meta.url);
// From the build (dist/…/run-pool.js) the worker is plain JS; from the sources (tests, tsx) it is
// TypeScript and needs the tsx loader, as the benches do.
const fromSource = here.endsWith('.ts');
const CHILD = join(dirname(here), fromSource ? 'run-child.ts' : 'run-child.js');
const CHILD_ARGV = fromSource ? ['--import', 'tsx'] : [];

const ERROR_CLASSES: Record<string, new (init: EparaErrorInit) => EparaError> = { ConfigError, SchedulerError, InferError };

function runFailure(job: RunJob, reason: string): EparaError {
  return new EparaError({
    code: 'internal.sim_run',
    reason: `the run of ${job.policy} at load ×${job.load} failed: ${reason}`,
    hint: 'rerun with --workers 0 to run it in this process and see the whole error; a worker killed for memory needs fewer --devices, a shorter --duration or fewer --workers',
    details: { load: job.load, policy: job.policy },
  });
}

function replyResult(job: RunJob, r: RunReply): { metrics: RunMetrics; notes: string[] } {
  if ('ok' in r) return r.ok;
  if ('error' in r) throw new (ERROR_CLASSES[r.error.name] ?? EparaError)(r.error.init as unknown as EparaErrorInit);
  throw runFailure(job, r.internal.split('\n', 1)[0]!);
}

/** One worker process: `run` sends it a job and resolves with its reply. */
class Worker {
  private readonly child: ChildProcess;
  private pending: { job: RunJob; resolve: (r: RunReply) => void; reject: (e: EparaError) => void } | null = null;
  exited = false;
  private readonly exit: Promise<void>;

  constructor() {
    this.child = fork(CHILD, [], { execArgv: CHILD_ARGV, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (r: RunReply) => {
      const p = this.pending;
      this.pending = null;
      p?.resolve(r);
    });
    this.exit = new Promise((resolve) => {
      const ended = (why: string): void => {
        this.exited = true;
        this.fail(why);
        resolve();
      };
      this.child.on('exit', (code, signal) => ended(signal ? `its worker process was killed by ${signal}` : `its worker process exited with code ${code}`));
      // A process that never started (no pid) has no 'exit' to wait for.
      this.child.on('error', (e) => (this.child.pid === undefined ? ended(`its worker process could not start (${e.message})`) : this.fail(e.message)));
    });
  }

  /** The job in hand, if any, fails with `why`. */
  private fail(why: string): void {
    const p = this.pending;
    this.pending = null;
    p?.reject(runFailure(p.job, why));
  }

  run(job: RunJob): Promise<RunReply> {
    return new Promise((resolve, reject) => {
      if (this.exited || !this.child.connected) return reject(runFailure(job, 'its worker process had already exited'));
      this.pending = { job, resolve, reject };
      this.child.send(job, (err) => {
        if (err) this.fail(`it could not be sent to its worker (${err.message})`);
      });
    });
  }

  /** Ends the process: at once when `kill`, else once it has read its disconnect (it is idle). Resolves when it has exited. */
  stop(kill: boolean): Promise<void> {
    if (!this.exited) {
      if (kill) this.child.kill();
      else if (this.child.connected) this.child.disconnect();
    }
    return this.exit;
  }
}

/**
 * Worker processes kept for several sweeps (the CLI runs the grid and then the knee probes on
 * one pool). One `runScenario` call at a time; `await close()` when done, or the workers keep
 * the process alive.
 */
export class SimRunPool {
  readonly size: number;
  private workers: Worker[] = [];
  private busy = false;

  constructor(workers?: number) {
    this.size = resolveNumber('workers', workers, WORKERS);
  }

  /** Every (load, policy) pair of a scenario, on the pool. Same results as `runScenario(opts)`. */
  async runScenario(opts: ScenarioOptions = {}): Promise<ScenarioResult> {
    if (this.size === 0) return runScenario(opts);
    if (this.busy) throw new ConfigError({ code: 'config.state', reason: 'this SimRunPool is already running a scenario', hint: 'await the previous runScenario call, or make a second pool', field: 'workers' });
    this.busy = true;
    try {
      return await this.sweep(opts);
    } finally {
      this.busy = false;
    }
  }

  private async sweep(opts: ScenarioOptions): Promise<ScenarioResult> {
    const plan = planScenario(opts);
    const { onRun, ...shared } = opts;
    const jobs: RunJob[] = plan.loads.flatMap((load) => plan.policies.map((p) => ({ opts: shared, load, policy: p.name })));
    const done: ({ metrics: RunMetrics; notes: string[] } | undefined)[] = new Array(jobs.length);
    this.workers = this.workers.filter((w) => !w.exited);
    while (this.workers.length < Math.min(this.size, jobs.length)) this.workers.push(new Worker());
    let next = 0;
    let reported = 0;
    let failed = false;
    const drive = async (w: Worker): Promise<void> => {
      while (!failed && next < jobs.length) {
        const i = next++;
        try {
          done[i] = replyResult(jobs[i]!, await w.run(jobs[i]!));
        } catch (e) {
          failed = true;
          throw e;
        }
        // Report in sweep order: a run is reported once every run before it is. (`reported++` is
        // outside the optional call: `onRun?.(…)` skips its arguments when there is no onRun.)
        for (; reported < jobs.length && done[reported]; reported++) onRun?.(done[reported]!.metrics);
      }
    };
    const settled = await Promise.allSettled(this.workers.map(drive));
    const firstError = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (firstError) {
      // Other workers may be mid-run on jobs nobody will read.
      await this.close(true);
      throw firstError.reason;
    }
    return scenarioResult(plan, done.map((d) => d!.metrics), loadNotes(plan.loads[0]!, done[0]!.notes));
  }

  private running = new Set<Worker>();
  private waiting: { job: RunJob; resolve: (m: RunMetrics) => void; reject: (e: unknown) => void }[] = [];
  private local: { key: string; plan: ScenarioPlan; ats: Map<number, ReturnType<typeof workloadAt>> } | null = null;

  /**
   * One policy at one load, queued to the next idle worker: searches that each need one run at a
   * time (capacity.ts bisects every policy at once) keep every worker busy. Not to be mixed with a
   * concurrent `runScenario` on the same pool. The caller has planned `opts` (errors come back as
   * the run's typed error).
   */
  runOne(opts: Omit<ScenarioOptions, 'onRun'>, load: number, policy: string): Promise<RunMetrics> {
    const { onRun: _cb, ...shared } = opts as ScenarioOptions;
    const job: RunJob = { opts: shared, load, policy };
    if (this.size === 0) return Promise.resolve().then(() => this.runLocal(job));
    return new Promise((resolve, reject) => {
      this.waiting.push({ job, resolve, reject });
      this.pump();
    });
  }

  private runLocal(job: RunJob): RunMetrics {
    const key = JSON.stringify(job.opts);
    if (this.local?.key !== key) this.local = { key, plan: planScenario({ ...job.opts, loads: [job.load] }), ats: new Map() };
    const { plan, ats } = this.local;
    let at = ats.get(job.load);
    if (!at) {
      if (ats.size > 4) ats.clear();
      at = workloadAt(plan, job.load);
      ats.set(job.load, at);
    }
    const p = plan.policies.find((x) => x.name === job.policy) ?? resolvePolicies([job.policy])[0]!;
    return runPlanned(plan, job.opts, job.load, p, at);
  }

  private pump(): void {
    this.workers = this.workers.filter((w) => !w.exited);
    while (this.waiting.length > 0) {
      let w = this.workers.find((x) => !this.running.has(x));
      if (!w && this.workers.length < this.size) {
        w = new Worker();
        this.workers.push(w);
      }
      if (!w) return;
      const { job, resolve, reject } = this.waiting.shift()!;
      const worker = w;
      this.running.add(worker);
      worker.run(job).then(
        (r) => {
          this.running.delete(worker);
          try {
            resolve(replyResult(job, r).metrics);
          } catch (e) {
            reject(e);
          }
          this.pump();
        },
        (e) => {
          this.running.delete(worker);
          reject(e);
          this.pump();
        },
      );
    }
  }

  /** Stops the workers (idle ones exit once they read the disconnect; `kill` ends busy ones too); resolves when they have exited. */
  async close(kill = false): Promise<void> {
    const stopping = this.workers.map((w) => w.stop(kill));
    this.workers = [];
    this.running.clear();
    await Promise.all(stopping);
  }
}

/** `runScenario(opts)` on a pool of `workers` processes made for this one call. */
export async function runScenarioPooled(opts: ScenarioOptions = {}, workers?: number): Promise<ScenarioResult> {
  const pool = new SimRunPool(workers);
  try {
    return await pool.runScenario(opts);
  } finally {
    await pool.close();
  }
}
