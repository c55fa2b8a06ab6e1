import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeHc05Error, parseAtReply, planCommands } from '../../src/cli/hc05/at-protocol.js';
import { epara, here, repoRoot, sandbox, startHc05, type Sandbox } from './helpers.js';

let sb: Sandbox;
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  sb?.cleanup();
});

async function hc05(args: string[] = []) {
  const m = await startHc05(sb.root, args);
  stops.push(m.stop);
  return m;
}

describe('epara hc05 (scripted HC-05 behind a socat pty)', () => {
  it('checks the link and reads firmware and address without changing anything', async () => {
    sb = sandbox();
    const m = await hc05(['--log', join(sb.root, 'at.log')]);
    const r = await epara(['hc05', m.path, '--json'], { env: sb.env });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ version: '2.0-20100601', firmwareMajor: 2, address: '98d3:31:f51234', mac: '98:D3:31:F5:12:34' });
    expect(readFileSync(join(sb.root, 'at.log'), 'utf8').trim().split('\n')).toEqual(['AT', 'AT+VERSION?', 'AT+ADDR?']);
  });

  it('applies name, PIN, baud and role on v2 firmware and verifies each by reading it back', async () => {
    sb = sandbox();
    const m = await hc05(['--log', join(sb.root, 'at.log')]);
    const r = await epara(['hc05', m.path, '--name', 'FPGA-EDGE', '--pin', '4821', '--baud', '115200', '--role', 'slave'], { env: sb.env });
    expect(r.code).toBe(0);
    const sent = readFileSync(join(sb.root, 'at.log'), 'utf8').trim().split('\n');
    expect(sent).toEqual(['AT', 'AT+VERSION?', 'AT+ADDR?', 'AT+NAME=FPGA-EDGE', 'AT+PSWD=4821', 'AT+UART=115200,0,0', 'AT+ROLE=0', 'AT+NAME?', 'AT+PSWD?', 'AT+UART?', 'AT+ROLE?']);
    expect(r.stderr).toMatch(/✓ AT\+UART\?\s+\+UART:115200,0,0 OK \(matches\)/);
    expect(r.stdout).toContain('next: epara pair 98:D3:31:F5:12:34');
    // The PIN never reaches the output, in either direction.
    expect(r.stdout + r.stderr).not.toContain('4821');
  });

  it('quotes the PIN for v3 firmware (AT+PSWD="nnnn")', async () => {
    sb = sandbox();
    const m = await hc05(['--firmware', '3.0-20170601', '--log', join(sb.root, 'at.log')]);
    const r = await epara(['hc05', m.path, '--pin', '4821', '--json'], { env: sb.env });
    expect(r.code).toBe(0);
    expect(readFileSync(join(sb.root, 'at.log'), 'utf8')).toContain('AT+PSWD="4821"');
  });

  it('decodes ERROR:(2) from the module into a typed error (exit 1)', async () => {
    sb = sandbox();
    const m = await hc05(['--pskey-fail']);
    const r = await epara(['hc05', m.path, '--name', 'X', '--json'], { env: sb.env });
    expect(r.code).toBe(1);
    const e = r.json<{ error: { code: string; reason: string } }>().error;
    expect(e.code).toBe('cli.hc05_error');
    expect(e.reason).toContain('ERROR:(2): PSKEY write error');
  });

  it('a setting that does not stick fails the read-back verification', async () => {
    sb = sandbox();
    const m = await hc05(['--drop-name']);
    const r = await epara(['hc05', m.path, '--name', 'FPGA-EDGE'], { env: sb.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cli.hc05_verify');
    expect(r.stderr).toContain('"HC-05"');
  });

  it('a module in data mode never answers: cli.hc05_no_reply explains full AT mode', async () => {
    sb = sandbox();
    const m = await hc05(['--mode', 'data']);
    const r = await epara(['hc05', m.path, '--timeout', '200'], { env: sb.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cli.hc05_no_reply');
    expect(r.stderr).toContain('38400');
  });

  it('a port held by another process names that process', async () => {
    sb = sandbox();
    const m = await hc05();
    // flock(1) takes the same BSD lock serialport takes when it opens a port.
    const holder = spawn('flock', [m.path, 'sleep', '30'], { stdio: 'ignore', detached: true });
    stops.push(async () => {
      process.kill(-holder.pid!, 'SIGTERM'); // flock and its sleep child
    });
    await new Promise((r) => setTimeout(r, 300));
    const r = await epara(['hc05', m.path, '--json'], { env: sb.env });
    expect(r.code).toBe(1);
    const e = r.json<{ error: { code: string; hint: string } }>().error;
    expect(e.code).toBe('link.busy');
    expect(e.hint).toContain(`pid ${holder.pid}`);
  });

  it('rejects values the HC-05 cannot take before opening the port (exit 2)', async () => {
    sb = sandbox();
    for (const bad of [['--baud', '12345'], ['--pin', '12'], ['--role', 'boss'], ['--name', 'x'.repeat(33)]]) {
      const r = await epara(['hc05', '/dev/does-not-matter', ...bad], { env: sb.env });
      expect(r.code, bad.join(' ')).toBe(2);
    }
    const missing = await epara(['hc05', join(sb.root, 'ttyUSB9')], { env: sb.env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist|cli\.not_found/);
  });
});

describe('HC-05 AT protocol (pure)', () => {
  it('parses OK, values and hex error codes', () => {
    expect(parseAtReply(['+VERSION:2.0-20100601'])).toBeUndefined();
    expect(parseAtReply(['+VERSION:2.0-20100601', 'OK'])).toEqual({ kind: 'ok', values: { VERSION: '2.0-20100601' } });
    expect(parseAtReply(['ERROR:(1C)'])).toMatchObject({ kind: 'error', code: '1C', meaning: 'invalid encryption mode' });
    expect(decodeHc05Error('12')).toBe('invalid baud rate');
    expect(decodeHc05Error('1F')).toMatch(/not in the HC-05 AT command set table/);
  });

  it('plans set + verify commands, quoting the PIN from v3 on', () => {
    expect(planCommands({ pin: '1234' }, '2.0-20100601').set[0]!.command).toBe('AT+PSWD=1234');
    expect(planCommands({ pin: '1234' }, '3.0-20170601').set[0]!.command).toBe('AT+PSWD="1234"');
    expect(planCommands({ baud: 9600, role: 0 }, undefined).verify.map((v) => v.command)).toEqual(['AT+UART?', 'AT+ROLE?']);
  });
});

describe('epara hc05 as a user without access to the port', () => {
  // Dropping to another uid needs root (CI and the dev machines run as root).
  it.skipIf(process.getuid?.() !== 0)('EACCES on a tty names the group to join (real non-root process)', async () => {
    sb = sandbox();
    const { chmodSync } = await import('node:fs');
    chmodSync(sb.root, 0o755);
    const m = await hc05();
    const { spawnSync } = await import('node:child_process');
    // The pty is root:root 0620/0600: uid 65534 (nobody) may not open it. The child loads the CLI
    // as root and drops to nobody before the command runs (as-nobody.ts), so a checkout under a
    // directory only root may enter (mktemp -d makes 0700 ones) works as well (issue 21, defect 10).
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'as-nobody.ts'), 'hc05', m.path, '--json'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: '/tmp', NO_COLOR: '1' },
    });
    expect(r.stderr).toContain('as uid 65534 gid 65534');
    expect(r.status).toBe(1);
    const e = (JSON.parse(r.stdout) as { error: { code: string; hint: string } }).error;
    expect(e.code).toBe('link.permission');
    expect(e.hint).toMatch(/sudo usermod -aG \w+ \$USER/);
  }, 30_000);
});
