/**
 * The simulator's check configurations: a refactor of src/sim or src/scheduler must leave the
 * metrics JSON of each one byte-identical (docs/scheduling.md names them). Prints one SHA-256 per
 * configuration over the JSON of all its runs (every policy), so two checkouts compare by eye:
 *   npx tsx scripts/sim-check.ts            (add --json DIR to also write each configuration's JSON)
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScenario, type ScenarioOptions } from '../src/sim/scenario.js';

/** The five configurations of the earlier byte-identical checks, every policy on the check seed (1). */
export const CHECK_CONFIGURATIONS: Record<string, ScenarioOptions> = {
  'mixed-x1': { scenario: 'mixed', loads: [1] },
  'mixed-x4': { scenario: 'mixed', loads: [4] },
  'camera-heavy-x3': { scenario: 'camera-heavy', loads: [3] },
  'llm-heavy-continuous': { scenario: 'llm-heavy', loads: [1], llmBatching: 'continuous' },
  'mixed-two-failures': { scenario: 'mixed', loads: [1], failures: [{ atMs: 60_000, device: 'gpu-server-0-0' }, { atMs: 150_000, device: 'embedded-gpu-1-3' }] },
};

const at = process.argv.indexOf('--json');
const dir = at > 0 ? process.argv[at + 1] : undefined;
if (dir) mkdirSync(dir, { recursive: true });
for (const [name, opts] of Object.entries(CHECK_CONFIGURATIONS)) {
  const json = JSON.stringify(runScenario({ seed: 1, ...opts }).results);
  if (dir) writeFileSync(join(dir, `${name}.json`), json);
  console.log(`${createHash('sha256').update(json).digest('hex')}  ${name}`);
}
