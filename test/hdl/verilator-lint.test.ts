/** `verilator --lint-only -Wall` must be clean for every RTL module and for the board top. */
import { describe, expect, it } from 'vitest';
import { missingTools, RTL_CORE, run } from './hdl-project.js';

const missing = missingTools('Verilator lint', ['verilator']);
const BOARD = ['reset_sync.v', 'seg7_display.v'];
const ALL = [...RTL_CORE, ...BOARD].map((f) => `rtl/${f}`);

describe.skipIf(missing.length > 0)('verilator --lint-only -Wall', () => {
  for (const file of [...RTL_CORE, ...BOARD, 'basys3_top.v']) {
    const top = file.replace(/\.v$/, '');
    it(`${top} is lint-clean`, () => {
      const files = top === 'basys3_top' ? [...ALL, 'rtl/basys3_top.v'] : ALL;
      const r = run('verilator', ['--lint-only', '-Wall', '-Irtl', '--top-module', top, ...files]);
      expect(r.output.trim(), r.output).toBe('');
      expect(r.status).toBe(0);
    });
  }
});
