import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describe as describePort } from '../../src/cli/port-scan.js';
import { lookupUsb } from '../../src/cli/usb-ids.js';
import { calls, epara, sandbox, type Sandbox } from './helpers.js';
import { fakeSysfs } from './fake-sysfs.js';

let sb: Sandbox;
afterEach(() => sb?.cleanup());

describe('epara ports', () => {
  it('lists serial ports from sysfs (no udevadm needed) with a guess of what is attached', async () => {
    sb = sandbox({ scenario: 'pair-already-bound' });
    const { sys, dev } = fakeSysfs(sb.root);
    const r = await epara(['ports', '--json', '--sys-root', sys, '--dev-root', dev], { env: sb.env });
    expect(r.code).toBe(0);
    const ports = r.json<Array<{ path: string; kind: string; vendorId?: string; interface?: number; driver?: string; guess: string; bluetooth?: { address: string } }>>();
    expect(ports.map((p) => p.path)).toEqual(['ttyACM0', 'ttyUSB0', 'ttyUSB1', 'ttyUSB2', 'rfcomm0'].map((n) => join(dev, n)));
    const by = Object.fromEntries(ports.map((p) => [p.path.split('/').pop(), p]));
    expect(by.ttyUSB0!.guess).toContain('JTAG channel');
    expect(by.ttyUSB1).toMatchObject({ vendorId: '0403', interface: 1, driver: 'ftdi_sio' });
    expect(by.ttyUSB1!.guess).toContain('Basys 3');
    expect(by.ttyUSB2).toMatchObject({ bridge: 'WCH CH340', driver: 'ch341-uart' });
    expect(by.ttyUSB2!.guess).toContain('USB-UART adapter');
    expect(by.ttyACM0!.guess).toContain('Pico');
    expect(by.rfcomm0).toMatchObject({ kind: 'spp', bluetooth: { address: '98:D3:31:F5:12:34', channel: 1 } });
    // rfcomm (no args) was asked who is bound.
    expect(calls(sb.log)).toEqual([{ tool: 'rfcomm', args: [], input: [] }]);
  });

  it('prints a readable table and next steps; works without rfcomm installed', async () => {
    sb = sandbox({ fakeTools: false });
    const { sys, dev } = fakeSysfs(sb.root);
    const r = await epara(['ports', '--sys-root', sys, '--dev-root', dev], { env: sb.env });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^PORT\s+USB ID\s+BRIDGE\s+PROBABLY$/);
    expect(r.stdout).toMatch(/ttyUSB2\s+1a86:7523\s+WCH CH340/);
    expect(r.stdout).toContain(`epara serve --serial ${join(dev, 'rfcomm0')}@9600`);
    expect(r.stdout).not.toMatch(/\u001b\[/); // not a TTY: no colours
  });

  it('says what to do when there are no ports', async () => {
    sb = sandbox({ fakeTools: false });
    mkdirSync(join(sb.root, 'sys', 'class', 'tty'), { recursive: true });
    mkdirSync(join(sb.root, 'dev'));
    const r = await epara(['ports', '--sys-root', join(sb.root, 'sys'), '--dev-root', join(sb.root, 'dev')], { env: sb.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no serial ports found');
    const j = await epara(['ports', '--json', '--sys-root', join(sb.root, 'sys'), '--dev-root', join(sb.root, 'dev')], { env: sb.env });
    expect(j.json()).toEqual([]);
  });
});

describe('USB fingerprints', () => {
  it('matches exact ids first, then vendor wildcards; unknown ids stay unknown', () => {
    expect(lookupUsb('10C4', 'EA60')?.bridge).toBe('Silicon Labs CP210x');
    expect(lookupUsb('2341', '0043')?.role).toBe('mcu-board');
    expect(lookupUsb('dead', 'beef')).toBeUndefined();
    expect(describePort({ path: '/dev/ttyUSB5', kind: 'usb', vendorId: 'dead', productId: 'beef', guess: '' }).guess).toBe('unrecognised USB serial device');
  });
});
