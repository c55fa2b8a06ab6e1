import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles } from '../../scripts/import-cycles.js';
import { repoRoot } from './helpers.js';

// Issue 16, item 9: every command imported ExitState from program.ts (which imports every
// command) and commands imported helpers from each other: one 16-file loop. The helpers now live
// in src/cli/context.ts, flags.ts and format.ts; this keeps it so.
describe('import graph', () => {
  it('src/cli has no import cycle (type-only imports count)', () => {
    expect(importCycles(join(repoRoot, 'src', 'cli'))).toEqual([]);
  });

  it('the walker finds a cycle, including a type-only one and one through a re-export', () => {
    const dir = mkdtempSync(join(tmpdir(), 'epara-cycles-'));
    try {
      writeFileSync(join(dir, 'program.ts'), "import { a } from './a.js';\nexport interface ExitState { code: number }\nexport const p = a;\n");
      writeFileSync(join(dir, 'a.ts'), "import type { ExitState } from './program.js';\nexport const a = (e: ExitState) => e.code;\n");
      writeFileSync(join(dir, 'b.ts'), "export * from './c.js';\n");
      writeFileSync(join(dir, 'c.ts'), "export { x } from './b.js';\nexport const y = 1;\n");
      writeFileSync(join(dir, 'lazy.ts'), "export const l = () => import('./program.js');\n// import './lazy.js' in a comment is not an import\n");
      expect(importCycles(dir)).toEqual([['a.ts', 'program.ts'], ['b.ts', 'c.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
