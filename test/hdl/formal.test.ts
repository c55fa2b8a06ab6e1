/**
 * Bounded proofs with yosys-smtbmc + z3 (hdl/basys3/formal/run.sh): the UART
 * transmitter's frame is exactly ten bit periods; the COBS decoder never emits a
 * byte past a delimiter. Each property is also shown to be able to fail: a
 * mutant of each module must be caught.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HDL_DIR, missingTools, run } from './hdl-project.js';

const missing = missingTools('formal (yosys-smtbmc + z3)', ['yosys', 'yosys-smtbmc', 'z3']);
const work = mkdtempSync(join(tmpdir(), 'epara-formal-'));

function bmc(file: string, top: string, chparam: string, depth: number) {
  const smt = join(work, `${top}-${Math.random().toString(36).slice(2)}.smt2`);
  const y = run('yosys', ['-q', '-p', `read_verilog -formal ${file}; chparam ${chparam} ${top}; prep -top ${top}; async2sync; dffunmap; write_smt2 -wires ${smt}`]);
  expect(y.status, y.output).toBe(0);
  // --unroll: z3 4.8.12 stalls on the incremental cobs_decode problem; unrolled it is instant
  return run('yosys-smtbmc', ['-s', 'z3', '--unroll', '--noprogress', '-t', String(depth), smt], { timeoutMs: 600_000 });
}

describe.skipIf(missing.length > 0)('formal properties (yosys-smtbmc + z3)', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('uart_tx: every frame is exactly ten bit periods (30-step BMC at 2 clocks/bit)', () => {
    const r = bmc('rtl/uart_tx.v', 'uart_tx', '-set CLK_HZ 2 -set BAUD 1', 30);
    console.log(`[hdl] uart_tx ${r.stdout.trim().split('\n').pop()}`);
    expect(r.stdout).toMatch(/Status: PASSED/);
    expect(r.status).toBe(0);
  }, 600_000);

  it('uart_tx mutant that accepts a byte one clock early is caught', () => {
    const src = readFileSync(join(HDL_DIR, 'rtl', 'uart_tx.v'), 'utf8');
    const mutant = src.replace(
      "assign s_axis_tready = (bits_reg == 4'd0) || last_clock;",
      "assign s_axis_tready = (bits_reg == 4'd0) || (bits_reg == 4'd1);",
    );
    expect(mutant).not.toBe(src);
    const f = join(work, 'uart_tx_mutant.v');
    writeFileSync(f, mutant);
    const r = bmc(f, 'uart_tx', '-set CLK_HZ 2 -set BAUD 1', 30);
    expect(r.stdout).toMatch(/Status: FAILED/);
  }, 600_000);

  it('cobs_decode: never emits a byte past a delimiter (BMC, MAX_LEN 3)', () => {
    const depth = Number(process.env.EPARA_COBS_BMC_DEPTH ?? 20);
    const r = bmc('rtl/cobs_decode.v', 'cobs_decode', '-set MAX_LEN 3', depth);
    console.log(`[hdl] cobs_decode (${depth} steps) ${r.stdout.trim().split('\n').pop()}`);
    expect(r.stdout).toMatch(/Status: PASSED/);
    expect(r.status).toBe(0);
  }, 600_000);

  it('cobs_decode mutant that closes a frame without tlast is caught', () => {
    const src = readFileSync(join(HDL_DIR, 'rtl', 'cobs_decode.v'), 'utf8');
    const mutant = src.replace("out_last_reg  <= 1'b1;\n                out_user_reg  <= drop_reg", "out_last_reg  <= 1'b0;\n                out_user_reg  <= drop_reg");
    expect(mutant).not.toBe(src);
    const f = join(work, 'cobs_decode_mutant.v');
    writeFileSync(f, mutant);
    const r = bmc(f, 'cobs_decode', '-set MAX_LEN 3', 20);
    expect(r.stdout).toMatch(/Status: FAILED/);
  }, 600_000);
});
