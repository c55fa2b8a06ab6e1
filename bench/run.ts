/**
 * `npm run bench` entry point.
 *
 * Convention: every bench/<name>.ts (other than this file) is a benchmark module that exports
 *
 *     export async function run(): Promise<void>
 *
 * which measures its subject AND a baseline in the same run and prints one table (figures beside
 * their baseline, and the ratio). Modules are run one after another in name order, in this
 * process. Add a benchmark by dropping a file here; nothing to register. Files whose name starts
 * with `_` are shared helpers, not benchmarks, and are skipped.
 *
 *   npm run bench               # every module
 *   npm run bench -- codec      # only bench/codec.ts (several names allowed)
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isEparaError } from '../src/errors.js';

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== self && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`bench: unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
const chosen = wanted.length ? wanted : available;

let failed = 0;
for (const name of chosen) {
  const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { run?: () => Promise<void> };
  if (typeof mod.run !== 'function') {
    console.error(`bench: bench/${name}.ts does not export run(); skipped`);
    failed++;
    continue;
  }
  console.log(`\n=== bench/${name} ===`);
  const t0 = performance.now();
  try {
    await mod.run();
  } catch (e) {
    failed++;
    // A bad knob (EPARA_BENCH_*) is a typed error: its reason and hint say what to change; a stack would not.
    console.error(`bench/${name} failed: ${isEparaError(e) ? e.toHuman() : e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  console.log(`(bench/${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
process.exit(failed ? 1 : 0);
