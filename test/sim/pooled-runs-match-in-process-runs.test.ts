import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, EparaError } from '../../src/errors.js';
import { runScenarioPooled, SimRunPool } from '../../src/sim/run-pool.js';
import { runScenario } from '../../src/sim/scenario.js';

/** PIDs of this process's child processes (the pool's workers). */
function children(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

const recipe = { scenario: 'camera-heavy' as const, devices: 32, durationSec: 20, seed: 3, policies: ['epara', 'round-robin', 'alpaserve-sr'] };

describe('scenario runs in worker processes (src/sim/run-pool.ts)', () => {
  it('give byte-identical results to runScenario, in sweep order, with onRun called in that order', async () => {
    const inProcess = runScenario({ ...recipe, loads: [1, 4] });
    const order: string[] = [];
    const pooled = await runScenarioPooled({ ...recipe, loads: [1, 4], onRun: (m) => order.push(`${m.load}/${m.policy}`) }, 2);
    expect(JSON.stringify(pooled)).toBe(JSON.stringify(inProcess));
    expect(order).toEqual(['1/epara', '1/round-robin', '1/alpaserve-sr', '4/epara', '4/round-robin', '4/alpaserve-sr']);
    // The pool was made for the call and is gone with it.
    expect(children()).toEqual([]);
  }, 60_000);

  it('reports option errors from this process before any worker starts', async () => {
    const pool = new SimRunPool(2);
    try {
      await expect(pool.runScenario({ ...recipe, policies: ['epara', 'nope'] })).rejects.toMatchObject({ code: 'sim.policy' });
      await expect(pool.runScenario({ ...recipe, loads: [0] })).rejects.toMatchObject({ code: 'config.range', field: 'loads' });
      expect(children()).toEqual([]);
    } finally {
      await pool.close();
    }
    expect(children()).toEqual([]);
    expect(() => new SimRunPool(65)).toThrow(ConfigError);
    expect(() => new SimRunPool(1.5)).toThrow(/whole number/);
  });

  it('a worker that dies mid-run fails the call with the run it was on, instead of hanging; the pool then starts new workers', async () => {
    const pool = new SimRunPool(1);
    try {
      const long = pool.runScenario({ scenario: 'mixed', devices: 400, durationSec: 600, loads: [2], policies: ['least-violation'] });
      await expect.poll(children, { timeout: 10_000 }).toHaveLength(1);
      process.kill(children()[0]!, 'SIGKILL');
      const err = await long.then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(EparaError);
      expect(err).toMatchObject({ code: 'internal.sim_run', details: { load: 2, policy: 'least-violation' } });
      expect((err as EparaError).reason).toMatch(/least-violation at load ×2 failed: its worker process was killed by SIGKILL/);
      expect((err as EparaError).hint).toMatch(/--workers 0/);
      const again = await pool.runScenario({ ...recipe, loads: [1], policies: ['round-robin'] });
      expect(JSON.stringify(again.results)).toBe(JSON.stringify(runScenario({ ...recipe, loads: [1], policies: ['round-robin'] }).results));
    } finally {
      await pool.close();
    }
    expect(children()).toEqual([]);
  }, 60_000);

  it('workers: 0 runs in this process', async () => {
    const r = await runScenarioPooled({ ...recipe, loads: [1], policies: ['epara'] }, 0);
    expect(children()).toEqual([]);
    expect(JSON.stringify(r)).toBe(JSON.stringify(runScenario({ ...recipe, loads: [1], policies: ['epara'] })));
  });
});
