import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describe as describePort } from '../../src/cli/port-scan.js';
import { lookupUsb } from '../../src/cli/usb-ids.js';
import { calls, epara, sandbox, type Sandbox } from './helpers.js';

let sb: Sandbox;
afterEach(() => sb?.cleanup());

/** A sysfs tree like a gateway with a Basys 3, a CH340 adapter, a Pico and a bound HC-05. */
function fakeSysfs(root: string): { sys: string; dev: string } {
  const sys = join(root, 'sys');
  const dev = join(root, 'dev');
  mkdirSync(dev, { recursive: true });
  const files = (dir: string, attrs: Record<string, string>) => {
    mkdirSync(dir, { recursive: true });
    for (const [k, v] of Object.entries(attrs)) writeFileSync(join(dir, k), v + '\n');
  };
  const driver = (name: string) => {
    const d = join(sys, 'bus', 'usb-serial', 'drivers', name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const tty = (name: string, deviceDir: string, drv?: string, attrs: Record<string, string> = {}) => {
    files(join(sys, 'class', 'tty', name), attrs);
    symlinkSync(deviceDir, join(sys, 'class', 'tty', name, 'device'));
    if (drv) symlinkSync(driver(drv), join(deviceDir, 'driver'));
    writeFileSync(join(dev, name), '');
  };
  const usb = join(sys, 'devices', 'pci0000:00', '0000:00:14.0', 'usb1');
  files(join(usb, '1-1'), { idVendor: '0403', idProduct: '6010', manufacturer: 'Digilent', product: 'Digilent USB Device', serial: '210183A89B52' });
  files(join(usb, '1-1', '1-1:1.0'), { bInterfaceNumber: '00' });
  files(join(usb, '1-1', '1-1:1.1'), { bInterfaceNumber: '01' });
  mkdirSync(join(usb, '1-1', '1-1:1.0', 'ttyUSB0'));
  mkdirSync(join(usb, '1-1', '1-1:1.1', 'ttyUSB1'));
  tty('ttyUSB0', join(usb, '1-1', '1-1:1.0', 'ttyUSB0'), 'ftdi_sio');
  tty('ttyUSB1', join(usb, '1-1', '1-1:1.1', 'ttyUSB1'), 'ftdi_sio');
  files(join(usb, '1-2'), { idVendor: '1a86', idProduct: '7523', product: 'USB Serial' });
  files(join(usb, '1-2', '1-2:1.0', 'ttyUSB2'), {});
  writeFileSync(join(usb, '1-2', '1-2:1.0', 'bInterfaceNumber'), '00\n');
  tty('ttyUSB2', join(usb, '1-2', '1-2:1.0', 'ttyUSB2'), 'ch341-uart');
  files(join(usb, '1-3'), { idVendor: '2e8a', idProduct: '000a', manufacturer: 'Raspberry Pi', product: 'Pico' });
  files(join(usb, '1-3', '1-3:1.0'), { bInterfaceNumber: '00' });
  tty('ttyACM0', join(usb, '1-3', '1-3:1.0'), 'cdc_acm');
  // A legacy 8250 name with no UART behind it (type 0) and a virtual console: both left out.
  files(join(sys, 'devices', 'platform', 'serial8250', 'tty', 'ttyS3'), {});
  tty('ttyS3', join(sys, 'devices', 'platform', 'serial8250'), undefined, { type: '0' });
  files(join(sys, 'class', 'tty', 'tty1'), {});
  files(join(sys, 'class', 'tty', 'rfcomm0'), {});
  writeFileSync(join(dev, 'rfcomm0'), '');
  return { sys, dev };
}

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
