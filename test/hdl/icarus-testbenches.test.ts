/**
 * Runs every self-checking Icarus testbench under hdl/basys3/tb and requires its
 * PASS line (a testbench that fails prints FAIL and exits non-zero via $fatal).
 * COBS and CRC read the protocol engineer's golden vectors (protocol/vectors/*.hex)
 * and, separately, the extra cases in hdl/basys3/tb/vectors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingTools, RTL_CORE, run } from './hdl-project.js';

const missing = missingTools('Icarus testbenches', ['iverilog', 'vvp']);
const work = mkdtempSync(join(tmpdir(), 'epara-hdl-tb-'));

function sim(tb: string, rtl: string[], opts: { params?: Record<string, number>; plusargs?: string[]; tag?: string } = {}) {
  const out = join(work, `${tb}${opts.tag ?? ''}.vvp`);
  const params = Object.entries(opts.params ?? {}).map(([k, v]) => `-P${tb}.${k}=${v}`);
  const c = run('iverilog', ['-g2005', '-Wall', '-Irtl', ...params, '-o', out, `tb/${tb}.v`, ...rtl.map((f) => `rtl/${f}`)]);
  expect(c.status, c.output).toBe(0);
  const r = run('vvp', ['-n', out, ...(opts.plusargs ?? [])]);
  const lines = r.stdout.split('\n').filter((l) => !l.startsWith('RESULT'));
  console.log(lines.filter((l) => /PASS|FAIL/.test(l)).join('\n'));
  expect(r.status, r.output).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^PASS ${tb}`, 'm'));
  expect(r.stdout).not.toMatch(/^FAIL/m);
  return r.stdout;
}

describe.skipIf(missing.length > 0)('Icarus testbenches (hdl/basys3/tb)', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const uart = ['uart_tx.v', 'uart_rx.v', 'axis_fifo.v'];

  it('uart_tx/uart_rx at 16 clocks/bit: back-to-back bytes, every frame exactly 10 bit periods', () => {
    expect(sim('tb_uart', uart)).toMatch(/every frame 160 clocks/);
  });
  it('uart at the real 115200 divider (868 clocks/bit)', () => {
    expect(sim('tb_uart', uart, { params: { CLK_HZ: 100_000_000, BAUD: 115_200, NBYTES: 12 }, tag: '115200' })).toMatch(/868 clocks\/bit/);
  });
  it('uart at the HC-05 default 9600 (10417 clocks/bit)', () => {
    expect(sim('tb_uart', uart, { params: { CLK_HZ: 100_000_000, BAUD: 9600, NBYTES: 3 }, tag: '9600' })).toMatch(/10417 clocks\/bit/);
  }, 120_000);
  it('axis_fifo against a queue model', () => {
    sim('tb_fifo', ['axis_fifo.v']);
  });
  it('crc32c on protocol/vectors/crc.hex (check value 0xE3069283) and the extra vectors', () => {
    sim('tb_crc32c', ['crc32c.v']);
    sim('tb_crc32c', ['crc32c.v'], { plusargs: ['+vectors=tb/vectors/crc-extra.hex'], tag: 'x' });
  });
  it('cobs_encode/cobs_decode on protocol/vectors/cobs.hex, extra vectors, bad pieces, oversize, resync', () => {
    sim('tb_cobs', ['cobs_encode.v', 'cobs_decode.v']);
    sim('tb_cobs', ['cobs_encode.v', 'cobs_decode.v'], { plusargs: ['+vectors=tb/vectors/cobs-extra.hex'], tag: 'x' });
  });
  it('sha256_core + hmac_sha256: FIPS 180-2, RFC 4231 and every padding boundary', () => {
    sim('tb_sha256', ['hmac_sha256.v', 'sha256_core.v']);
  }, 120_000); // the core is bit-serial: ~220k clocks for the 25 vectors
  it('int8_fc kernel against results written by the TypeScript model', () => {
    sim('tb_int8_fc', ['int8_fc.v']);
  });
  it('edge_counters: the shared-adder counter/timer bank matches plain registers (random events)', () => {
    sim('tb_edge_counters', ['edge_counters.v']);
  });
  it('edge_core: every invalid golden vector rejected (frame errors counted), golden PING answered with the golden PONG body', () => {
    sim('tb_edge_core', RTL_CORE);
  }, 120_000);
});
