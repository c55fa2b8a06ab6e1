import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { epara, sandbox, startHc05, type Sandbox } from './helpers.js';
import { fakeSysfs } from './fake-sysfs.js';
import { eparaInPty, hasScript } from './pty.js';

let sb: Sandbox;
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  sb?.cleanup();
});

type Init = {
  dataDir: string;
  configFile: string;
  config: { serve: { tcp: string[]; serial: string[] } };
  device?: { id: string; deviceClass: string; key: string };
  hc05?: { port: string; mac?: string };
  systemd?: string;
};

// Issue 21, "Getting started": a guided setup where every question has a flag.
describe('epara init', () => {
  it.skipIf(!hasScript())('asks its questions in a terminal: scripted answers set up the data dir, an HC-05, a device, config.json and a systemd unit', async () => {
    sb = sandbox();
    const { sys, dev } = fakeSysfs(sb.root);
    const module = await startHc05(sb.root);
    stops.push(() => module.stop());
    const dataDir = join(sb.root, 'gw');
    const unit = join(sb.root, 'home', '.config', 'systemd', 'user', 'epara.service');
    const t = eparaInPty(['init', '--sys-root', sys, '--dev-root', dev], { env: { HOME: join(sb.root, 'home'), PATH: sb.env.PATH } });
    stops.push(async () => void t.proc.kill('SIGKILL'));
    const answer = async (question: RegExp, keys: string) => {
      const at = t.text().length;
      await t.waitFor(question, 20_000, Math.max(0, at - 400));
      t.type(keys + '\r');
    };
    await answer(/Data directory .*: $/, dataDir);
    await t.waitFor(/serial ports:\n(\s+\d\) .*\n)*\s+5\) .*\/dev\/rfcomm0  Bluetooth serial link/);
    await answer(/Serve devices on serial ports .*\[.*rfcomm0@9600\]: $/, '');
    await answer(/Configure an HC-05 .*\[none\]: $/, module.path);
    await answer(/HC-05 Bluetooth name \[EPARA-DEV\]: $/, 'FPGA-EDGE');
    await answer(/HC-05 PIN \[1234\]: $/, '4821');
    await answer(/HC-05 data baud .*\[9600\]: $/, '');
    await answer(/Listen for devices on TCP .*\[127\.0\.0\.1:7878\]: $/, '0.0.0.0:7979');
    await answer(/Register a first device: its id .*\[none\]: $/, 'fpga-01');
    await answer(/its class .*\[microcomputer\]: $/, 'fpga');
    await answer(/Write a systemd unit file .*\[none\]: $/, unit);
    const code = await t.exit;
    const text = t.text();
    expect(code, text).toBe(0);
    expect(text).toMatch(/✓ AT\+NAME=FPGA-EDGE/);
    expect(text).toMatch(/registered fpga-01 \(fpga\)\s+key: [0-9a-f]{64}/);
    const config = JSON.parse(readFileSync(join(dataDir, 'config.json'), 'utf8'));
    expect(config).toEqual({ serve: { tcp: ['0.0.0.0:7979'], serial: [`${join(dev, 'rfcomm0')}@9600`] } });
    expect(statSync(join(dataDir, 'config.json')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dataDir, 'registry.sqlite'))).toBe(true);
    const ls = await epara(['--data-dir', dataDir, 'devices', '--json'], { env: sb.env });
    expect(ls.json<Array<{ id: string; deviceClass: string }>>()).toMatchObject([{ id: 'fpga-01', deviceClass: 'fpga' }]);
    const service = readFileSync(unit, 'utf8');
    expect(service).toMatch(new RegExp(`^ExecStart=.* --data-dir ${dataDir} serve$`, 'm'));
    expect(service).toContain('WantedBy=default.target');
  }, 60_000);

  it('--yes runs unattended: flags answer, defaults fill the rest, nothing is asked', async () => {
    sb = sandbox({ fakeTools: false });
    const { sys, dev } = fakeSysfs(sb.root);
    const r = await epara(['--data-dir', sb.dataDir, 'init', '--yes', '--device', 'pi-01', '--sys-root', sys, '--dev-root', dev, '--json'], { env: sb.env });
    expect(r.stderr).not.toMatch(/\?|\[.*\]: /);
    expect(r.code).toBe(0);
    const res = r.json<Init>();
    expect(res.config.serve).toEqual({ tcp: ['127.0.0.1:7878'], serial: [`${join(dev, 'rfcomm0')}@9600`] });
    expect(res.device).toMatchObject({ id: 'pi-01', deviceClass: 'microcomputer' });
    expect(res.device!.key).toMatch(/^[0-9a-f]{64}$/);
    expect(res.systemd).toBeUndefined();
    // A second run keeps an existing config.json unless --force.
    const again = await epara(['--data-dir', sb.dataDir, 'init', '--yes', '--no-serial', '--sys-root', sys, '--dev-root', dev, '--json'], { env: sb.env });
    expect(again.code).toBe(1);
    expect(again.json<{ error: { code: string } }>().error.code).toBe('cli.config_exists');
    const forced = await epara(['--data-dir', sb.dataDir, 'init', '--yes', '--no-serial', '--tcp', 'none', '--force', '--sys-root', sys, '--dev-root', dev, '--json'], { env: sb.env });
    expect(forced.json<Init>().config.serve).toEqual({ tcp: [], serial: [] });
  });

  it('without a terminal and without --yes it says how to run unattended (exit 2)', async () => {
    sb = sandbox({ fakeTools: false });
    const r = await epara(['--data-dir', sb.dataDir, 'init', '--json'], { env: sb.env });
    expect(r.code).toBe(2);
    expect(r.json<{ error: { hint: string } }>().error.hint).toContain('--yes');
    expect(existsSync(sb.dataDir)).toBe(false);
  });
});
