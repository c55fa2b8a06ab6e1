import { afterEach, describe, expect, it } from 'vitest';
import { normalizeMac } from '../../src/cli/bluez/pair.js';
import { calls, epara, sandbox, type Sandbox } from './helpers.js';

let sb: Sandbox;
afterEach(() => sb?.cleanup());
const MAC = '98:D3:31:F5:12:34';

describe('epara pair (bluetoothctl + rfcomm against recorded transcripts)', () => {
  it('pairs, answers the PIN through the agent, trusts and binds /dev/rfcomm0', async () => {
    sb = sandbox({ scenario: 'pair-ok' });
    const r = await epara(['pair', MAC, '--pin', '1234', '--json'], { env: sb.env });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const res = r.json<{ steps: Array<{ step: string; ok: boolean }>; dev: string }>();
    expect(res.steps.map((s) => s.step)).toEqual(['power', 'agent', 'scan', 'pair', 'trust', 'bind']);
    expect(res.steps.every((s) => s.ok)).toBe(true);
    const log = calls(sb.log);
    const bt = log.find((c) => c.tool === 'bluetoothctl')!;
    // The PIN went to bluetoothctl's agent prompt, exactly once, right after `pair`.
    expect(bt.input).toEqual(['power on', 'agent KeyboardOnly', 'default-agent', 'scan on', 'scan off', `pair ${MAC}`, '1234', `trust ${MAC}`, 'quit']);
    expect(log.filter((c) => c.tool === 'rfcomm').map((c) => c.args)).toEqual([[], ['bind', '/dev/rfcomm0', MAC, '1']]);
    // The PIN is not echoed in the report.
    expect(r.stdout + r.stderr).not.toMatch(/PIN 1234/);
  });

  it('reports each step on stderr in human mode', async () => {
    sb = sandbox({ scenario: 'pair-ok' });
    const r = await epara(['pair', MAC.toLowerCase()], { env: sb.env });
    expect(r.code).toBe(0);
    for (const step of ['power', 'agent', 'scan', 'pair', 'trust', 'bind']) expect(r.stderr).toMatch(new RegExp(`✓ ${step}`));
    expect(r.stderr).toContain('found 98:D3:31:F5:12:34 (HC-05)');
    expect(r.stdout).toContain('epara serve --serial /dev/rfcomm0@9600');
  });

  it('a refused PIN is cli.bt_wrong_pin with the factory-PIN hint', async () => {
    sb = sandbox({ scenario: 'pair-wrong-pin' });
    const r = await epara(['pair', MAC, '--pin', '0000', '--json'], { env: sb.env });
    expect(r.code).toBe(1);
    const e = r.json<{ error: { code: string; hint: string; details: { bluez: string } } }>().error;
    expect(e.code).toBe('cli.bt_wrong_pin');
    expect(e.details.bluez).toBe('org.bluez.Error.AuthenticationFailed');
    expect(e.hint).toContain('1234');
    expect(calls(sb.log).some((c) => c.tool === 'rfcomm')).toBe(false);
  });

  it('no controller → cli.bt_no_adapter; bluetoothd down (recorded) → cli.bt_no_daemon', async () => {
    sb = sandbox({ scenario: 'pair-no-adapter' });
    const a = await epara(['pair', MAC], { env: sb.env });
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('cli.bt_no_adapter');
    sb.cleanup();
    sb = sandbox({ scenario: 'pair-no-daemon' });
    const d = await epara(['pair', MAC, '--reply-timeout', '300'], { env: sb.env });
    expect(d.code).toBe(1);
    expect(d.stderr).toContain('cli.bt_no_daemon');
    expect(d.stderr).toContain('systemctl enable --now bluetooth');
  });

  it('rfcomm bind without root → cli.rfcomm_permission with the sudo command to finish', async () => {
    sb = sandbox({ scenario: 'pair-bind-eperm' });
    const r = await epara(['pair', MAC, '--dev', '/dev/rfcomm3', '--channel', '2'], { env: sb.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cli.rfcomm_permission');
    expect(r.stderr).toContain(`sudo rfcomm bind /dev/rfcomm3 ${MAC} 2`);
  });

  it('keeps an existing binding to the same module instead of binding again', async () => {
    sb = sandbox({ scenario: 'pair-already-bound' });
    const r = await epara(['pair', MAC, '--json'], { env: sb.env });
    expect(r.code).toBe(0);
    const bind = r.json<{ steps: Array<{ step: string; skipped?: boolean }> }>().steps.find((s) => s.step === 'bind');
    expect(bind?.skipped).toBe(true);
    expect(calls(sb.log).filter((c) => c.tool === 'rfcomm').map((c) => c.args)).toEqual([[]]);
  });

  it('--dry-run prints the exact commands without running anything', async () => {
    sb = sandbox({ fakeTools: false });
    const r = await epara(['pair', MAC, '--pin', '4821', '--dev', '/dev/rfcomm1', '--dry-run', '--json'], { env: sb.env });
    expect(r.code).toBe(0);
    expect(r.json()).toEqual({
      dryRun: true,
      bluetoothctl: ['power on', 'agent KeyboardOnly', 'default-agent', 'scan on', 'scan off', `pair ${MAC}`, '4821', `trust ${MAC}`, 'quit'],
      shell: [`rfcomm bind /dev/rfcomm1 ${MAC} 1`],
    });
  });

  it('bad input is a usage error (exit 2); missing bluez says how to install it', async () => {
    sb = sandbox({ fakeTools: false });
    expect((await epara(['pair', 'not-a-mac'], { env: sb.env })).code).toBe(2);
    expect((await epara(['pair', MAC, '--channel', '99'], { env: sb.env })).code).toBe(2);
    expect((await epara(['pair', MAC, '--dev', '/dev/ttyUSB0'], { env: sb.env })).code).toBe(2);
    expect((await epara(['pair', MAC, '--pin', 'a b'], { env: sb.env })).code).toBe(2);
    const missing = await epara(['pair', MAC], { env: sb.env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('apt-get install bluez');
  });
});

describe('normalizeMac', () => {
  it('accepts colon, dash and the HC-05 AT+ADDR? forms', () => {
    expect(normalizeMac('98:d3:31:f5:12:34')).toBe(MAC);
    expect(normalizeMac('98-D3-31-F5-12-34')).toBe(MAC);
    expect(normalizeMac('98d3:31:f51234')).toBe(MAC);
    expect(normalizeMac('98d3:31:51234')).toBe('98:D3:31:05:12:34');
    expect(() => normalizeMac('98:D3:31:F5:12')).toThrow(/not a Bluetooth address/);
  });
});
