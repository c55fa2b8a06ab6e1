import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBitHeader } from '../../src/cli/bitstream.js';
import { epara, repoRoot } from './helpers.js';

const hdl = join(repoRoot, 'hdl', 'basys3');
const read = (p: string) => readFileSync(join(hdl, p), 'utf8');

/** What the Basys 3 build really does, read from its own files. */
function build(): { bit: string; baud: number } {
  const tcl = read('vivado/build.tcl');
  const top = /set top\s+(\S+)/.exec(tcl)?.[1];
  const out = /set out\s+(\S+)/.exec(tcl)?.[1];
  expect(tcl).toMatch(/write_bitstream .*"\$out\/\$top\.bit"/);
  const makeBaud = Number(/^BAUD\s*\?=\s*(\d+)/m.exec(read('Makefile'))?.[1]);
  const rtlBaud = Number(/parameter integer BAUD\s*=\s*(\d+)/.exec(read('rtl/basys3_top.v'))?.[1]);
  expect(makeBaud).toBe(rtlBaud);
  return { bit: `hdl/basys3/${out!.replace(/["]/g, '').replace(/^.*\//, '')}/${top}.bit`, baud: makeBaud };
}

// Issue 21, defect 9: the flash hint cited `vivado … build.tcl` where the README says
// `make -C hdl/basys3 bit`; hc05 --help said 115200 for the Basys 3 while the default bitstream
// is 9600; flash --help showed build/fpga_top.bit while the build writes basys3_top.bit.
describe('the help and hints say what the Basys 3 build does', () => {
  it('flash --help names the file the build writes, and the make target the README gives', async () => {
    const { bit } = build();
    expect(bit).toBe('hdl/basys3/build/basys3_top.bit');
    const help = (await epara(['flash', '--help'])).stdout;
    const named = [...help.matchAll(/[\w.-]+\/[\w./-]+\.bit\b/g)].map((m) => m[0]);
    expect(named.length).toBeGreaterThan(0);
    for (const p of named) expect(p, `flash --help names ${p}`).toBe(bit);
    expect(help).toContain('make -C hdl/basys3 bit');
    expect(read('README.md')).toMatch(/make bit/);
  });

  it('a file that is not a .bit gets the make target as its hint, not the Vivado script', () => {
    let hint = '';
    try {
      parseBitHeader(new Uint8Array(64), 'notes.txt');
    } catch (e) {
      hint = (e as { hint: string }).hint;
    }
    expect(hint).toContain('`make -C hdl/basys3 bit`');
    expect(hint).toContain(build().bit);
    expect(hint).not.toMatch(/vivado -mode|build\.tcl/);
  });

  it('hc05 --help gives the default bitstream baud for the Basys 3, in the option and the example', async () => {
    const { baud } = build();
    const help = (await epara(['hc05', '--help'])).stdout;
    expect(help.replace(/\s+/g, ' ')).toMatch(new RegExp(`Basys 3 bitstream runs at ${baud}\\b`));
    const example = help.split('\n').find((l) => /epara hc05 \S+ .*--baud/.test(l))!;
    expect(example).toContain(`--baud ${baud}`);
    expect(help).not.toMatch(/115200 for the Basys 3/);
  });
});
