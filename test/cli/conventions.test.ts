import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultDataDir, loadConfig } from '../../src/cli/config.js';
import { colorEnabled } from '../../src/cli/output.js';
import { humanize } from '../../src/cli/human-errors.js';
import { AuthError } from '../../src/errors.js';
import { epara, repoRoot, sandbox, type Sandbox } from './helpers.js';

let sb: Sandbox;
afterEach(() => sb?.cleanup());

const COMMANDS = ['init', 'profile', 'serve', 'register', 'devices', 'deploy', 'undeploy', 'deployments', 'infer', 'fleet', 'demo', 'sim', 'conform', 'ports', 'pair', 'hc05', 'flash'];

describe('CLI conventions', () => {
  it('--help lists every command and each command has its own help (exit 0)', async () => {
    const top = await epara(['--help']);
    expect(top.code).toBe(0);
    for (const c of COMMANDS) expect(top.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(top.stdout).toContain('Exit codes: 0 ok, 1 failure, 2 usage error.');
    for (const c of COMMANDS) {
      const r = await epara([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toMatch(new RegExp(`^Usage: epara ${c}`, 'm'));
      expect(r.stdout, c).toContain('Example');
    }
  });

  it('usage errors exit 2 with a suggestion; no arguments prints help and exits 2', async () => {
    const unknownCmd = await epara(['prots']);
    expect(unknownCmd.code).toBe(2);
    expect(unknownCmd.stderr).toContain("(Did you mean ports?)");
    const unknownOpt = await epara(['ports', '--bogus']);
    expect(unknownOpt.code).toBe(2);
    expect(unknownOpt.stderr).toContain("unknown option '--bogus'");
    const missingArg = await epara(['flash']);
    expect(missingArg.code).toBe(2);
    expect((await epara([])).code).toBe(2);
  });

  it('--version prints the package version', async () => {
    const r = await epara(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('colours only on a TTY, never with NO_COLOR or --no-color', async () => {
    expect(colorEnabled({ isTTY: true } as never, {}, undefined)).toBe(true);
    expect(colorEnabled({ isTTY: false } as never, {}, undefined)).toBe(false);
    expect(colorEnabled({ isTTY: true } as never, { NO_COLOR: '' }, undefined)).toBe(false);
    expect(colorEnabled({ isTTY: true } as never, {}, false)).toBe(false);
    expect(colorEnabled({ isTTY: true } as never, { TERM: 'dumb' }, undefined)).toBe(false);
    sb = sandbox({ fakeTools: false });
    const bad = join(sb.root, 'bad.bit');
    writeFileSync(bad, 'x');
    const tty = await epara(['flash', bad], { env: sb.env, tty: true });
    expect(tty.stderr).toMatch(/\u001b\[31m/);
    const nocolor = await epara(['flash', bad], { env: { ...sb.env, NO_COLOR: '1' }, tty: true });
    expect(nocolor.stderr).not.toMatch(/\u001b\[/);
    expect(nocolor.stderr).toMatch(/^error cli\.bitstream: .*\n  hint: /);
  });

  it('--json errors are one parseable document on stdout; --quiet keeps only results', async () => {
    sb = sandbox({ fakeTools: false });
    const r = await epara(['flash', join(sb.root, 'none.bit'), '--json'], { env: sb.env });
    expect(r.code).toBe(1);
    const e = r.json<{ error: { code: string; reason: string; hint: string } }>().error;
    expect(e.code).toBe('cli.not_found');
    expect(e.hint.length).toBeGreaterThan(0);
    const bit = join(sb.root, 'x.bit');
    writeFileSync(bit, 'x');
    const q = await epara(['pair', '98:D3:31:F5:12:34', '--dry-run', '--quiet'], { env: sb.env });
    expect(q.stderr).toBe('');
  });

  it('data dir: --data-dir, then EPARA_DATA_DIR, then $XDG_STATE_HOME/epara, then ~/.local/state/epara', () => {
    expect(defaultDataDir({ EPARA_DATA_DIR: '/srv/epara', XDG_STATE_HOME: '/x' })).toBe('/srv/epara');
    expect(defaultDataDir({ XDG_STATE_HOME: '/home/u/.state', HOME: '/home/u' })).toBe('/home/u/.state/epara');
    expect(defaultDataDir({ XDG_STATE_HOME: 'relative', HOME: '/home/u' })).toBe('/home/u/.local/state/epara');
    expect(defaultDataDir({ HOME: '/home/u' })).toBe('/home/u/.local/state/epara');
  });

  it('config files are validated: unknown keys and wrong types are typed errors', () => {
    sb = sandbox({ fakeTools: false });
    const f = join(sb.root, 'c.json');
    writeFileSync(f, JSON.stringify({ serve: { tcp: ['127.0.0.1:7878'], http: '127.0.0.1:8080' } }));
    expect(loadConfig(f, true)).toEqual({ serve: { tcp: ['127.0.0.1:7878'], http: '127.0.0.1:8080' } });
    writeFileSync(f, JSON.stringify({ serve: { tpc: ['x'] } }));
    expect(() => loadConfig(f, true)).toThrow(/serve\.tpc" is not a known key/);
    writeFileSync(f, JSON.stringify({ serve: { ble: 'yes' } }));
    expect(() => loadConfig(f, true)).toThrow(/must be true or false/);
    writeFileSync(f, '{');
    expect(() => loadConfig(f, true)).toThrow(/not valid JSON/);
    expect(() => loadConfig(join(sb.root, 'missing.json'), true)).toThrow(/does not exist/);
    expect(loadConfig(join(sb.root, 'missing.json'), false)).toEqual({});
  });

  it('a wrong device key gets the re-provisioning hint', () => {
    const e = humanize(new AuthError({ code: 'auth.bad_mac', wire: 200, reason: 'AUTH mac does not verify', hint: 'check the key', details: { deviceId: 'fpga-01' } }));
    expect(e.code).toBe('auth.bad_mac');
    expect(e.hint).toContain('epara devices rm fpga-01');
    expect(e.hint).toContain('epara register <new-id>');
  });

  it('permission denied on a tty names the dialout group', () => {
    const e = humanize(Object.assign(new Error('Error: Permission denied, cannot open /dev/ttyUSB0'), {}), { path: '/dev/ttyUSB0' });
    expect(e.code).toBe('link.permission');
    expect(e.hint).toContain('usermod -aG dialout');
  });

  it('emulation commands check their flags before needing a server (exit 2)', async () => {
    sb = sandbox({ fakeTools: false });
    const dd = ['--data-dir', sb.dataDir];
    expect((await epara([...dd, 'fleet', '--devices', 'toaster:1'], { env: sb.env })).code).toBe(2);
    expect((await epara([...dd, 'fleet', '--devices', '3', '--profile', 'mcu', '--seed', '-1'], { env: sb.env })).code).toBe(2);
    expect((await epara([...dd, 'fleet', '--devices', 'mcu:2', '--profile', 'mcu'], { env: sb.env })).code).toBe(2);
    expect((await epara([...dd, 'demo', '--devices', '13'], { env: sb.env })).code).toBe(2);
    const noServer = await epara([...dd, 'fleet', '--devices', '1'], { env: sb.env });
    expect(noServer.code).toBe(1);
    expect(noServer.stderr).toContain('cli.server_not_running');
  });

  it('epara demo runs the README story end to end', async () => {
    const r = await epara(['demo', '--devices', '2', '--seed', '7']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/done: 2 devices registered .* deployments ready, \d+ inference requests answered/);
  }, 60_000);

  it('the bin entry runs under node with tsx and exits with the documented codes', () => {
    const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const ok = run(['--version']);
    expect(ok.status).toBe(0);
    const usage = run(['nosuchcommand']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("unknown command 'nosuchcommand'");
  });
});
