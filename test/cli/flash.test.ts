import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildBit, parseBitHeader } from '../../src/cli/bitstream.js';
import { calls, epara, sandbox, type Sandbox } from './helpers.js';

let sb: Sandbox;
afterEach(() => sb?.cleanup());

function writeBit(dir: string, part = '7a35tcpg236'): string {
  const path = join(dir, 'fpga_top.bit');
  writeFileSync(path, buildBit({ design: 'fpga_top;UserID=0XFFFFFFFF;Version=2023.2', part, date: '2026/11/23', time: '12:00:00' }, new Uint8Array(64).fill(0xff)));
  return path;
}

describe('epara flash', () => {
  it('loads SRAM with `openFPGALoader -b basys3 <file>` and reports the bitstream header', async () => {
    sb = sandbox({ scenario: 'flash-sram-ok' });
    const bit = writeBit(sb.root);
    const r = await epara(['flash', bit, '--json'], { env: sb.env });
    expect(r.stderr).toContain('bitstream');
    expect(r.code).toBe(0);
    const res = r.json<{ target: string; header: { part: string; dataLength: number } }>();
    expect(res.target).toBe('sram');
    expect(res.header).toMatchObject({ part: '7a35tcpg236', dataLength: 64 });
    expect(calls(sb.log)).toEqual([{ tool: 'openFPGALoader', args: ['-b', 'basys3', bit], input: [] }]);
  });

  it('writes the SPI flash with -f and --verify', async () => {
    sb = sandbox({ scenario: 'flash-spi-ok' });
    const bit = writeBit(sb.root);
    const r = await epara(['flash', bit, '--flash', '--verify'], { env: sb.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SPI flash/);
    expect(calls(sb.log)[0]!.args).toEqual(['-b', 'basys3', '-f', '--verify', bit]);
  });

  it('explains a missing board from the recorded "device not found" transcript (exit 1)', async () => {
    sb = sandbox({ scenario: 'flash-no-board' });
    const r = await epara(['flash', writeBit(sb.root), '--json'], { env: sb.env });
    expect(r.code).toBe(1);
    const e = r.json<{ error: { code: string; hint: string } }>().error;
    expect(e.code).toBe('cli.flash_no_board');
    expect(e.hint).toContain('0403:6010');
  });

  it('says how to install openFPGALoader when it is not on PATH', async () => {
    sb = sandbox({ fakeTools: false });
    const r = await epara(['flash', writeBit(sb.root)], { env: sb.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cli.tool_missing');
    expect(r.stderr).toContain('apt-get install openfpgaloader');
  });

  it('refuses a bitstream built for another part before touching the board', async () => {
    sb = sandbox({ scenario: 'flash-sram-ok' });
    const r = await epara(['flash', writeBit(sb.root, '7a100tcsg324')], { env: sb.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cli.bitstream_part');
    expect(calls(sb.log)).toEqual([]);
  });

  it('refuses a file that is not a .bit, and a missing file', async () => {
    sb = sandbox({ scenario: 'flash-sram-ok' });
    const junk = join(sb.root, 'top.bit');
    writeFileSync(junk, 'module top(); endmodule\n');
    const bad = await epara(['flash', junk], { env: sb.env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('cli.bitstream');
    const missing = await epara(['flash', join(sb.root, 'nope.bit')], { env: sb.env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('does not exist');
  });

  it('--dry-run prints the command; --verify without --flash is a usage error (exit 2)', async () => {
    sb = sandbox({ fakeTools: false });
    const bit = writeBit(sb.root);
    const dry = await epara(['flash', bit, '--flash', '--dry-run'], { env: sb.env });
    expect(dry.code).toBe(0);
    expect(dry.stdout.trim()).toBe(`openFPGALoader -b basys3 -f ${bit}`);
    const usage = await epara(['flash', bit, '--verify'], { env: sb.env });
    expect(usage.code).toBe(2);
  });
});

describe('parseBitHeader', () => {
  it('round-trips the fields Vivado writes and rejects truncation', () => {
    const bytes = buildBit({ design: 'd', part: '7a35tcpg236', date: '2026/01/01', time: '00:00:00' }, new Uint8Array(10));
    expect(parseBitHeader(bytes, 'x.bit')).toEqual({ design: 'd', part: '7a35tcpg236', date: '2026/01/01', time: '00:00:00', dataLength: 10 });
    expect(() => parseBitHeader(bytes.subarray(0, bytes.length - 1), 'x.bit')).toThrow(/data section says 10 bytes/);
  });
});
