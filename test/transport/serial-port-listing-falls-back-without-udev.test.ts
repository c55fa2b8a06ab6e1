import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { guessChip, listSerialPorts } from '../../src/transport/serial-ports.js';
import { serialOpenError } from '../../src/transport/serial-errors.js';

const haveUdevadm = spawnSync('sh', ['-c', 'command -v udevadm']).status === 0;

describe('listSerialPorts', () => {
  it('falls back to a /dev scan and says why when udevadm is missing', async () => {
    // Hide udevadm (if this machine has it) the way a minimal image lacks it: serialport's list
    // spawns it from PATH.
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent-epara';
    const list = await listSerialPorts().finally(() => {
      process.env.PATH = path;
    });
    expect(list.method).toBe('dev-scan');
    expect(list.note).toMatch(/udevadm not found; fell back/);
    for (const p of list.ports) expect(p.path).toMatch(/^\/dev\/(ttyUSB|ttyACM|ttyS|ttyAMA|ttyTHS|rfcomm)\d+$/);
  });

  it.skipIf(!haveUdevadm)('uses udev when udevadm is present', async () => {
    const list = await listSerialPorts();
    expect(list.method).toBe('udev');
    expect(list.note).toBeUndefined();
  });

  const root = mkdtemp(join(tmpdir(), 'epara-sys-'));
  afterAll(async () => rm(await root, { recursive: true, force: true }));

  it('reads USB ids from /sys, guesses the chip and marks rfcomm as spp', async () => {
    const base = await root;
    const dev = join(base, 'dev');
    const sys = join(base, 'sys/class/tty');
    await mkdir(dev, { recursive: true });
    for (const n of ['ttyUSB0', 'ttyUSB1', 'ttyACM0', 'ttyS0', 'ttyS1', 'rfcomm0', 'tty7', 'null']) await writeFile(join(dev, n), '');
    // ttyUSB0: FTDI FT2232 made by Digilent, device -> usb interface/port dir below the USB device.
    const usbDev = join(base, 'sys/devices/usb1/1-1');
    await mkdir(join(usbDev, '1-1:1.1/ttyUSB0'), { recursive: true });
    await writeFile(join(usbDev, 'idVendor'), '0403\n');
    await writeFile(join(usbDev, 'idProduct'), '6010\n');
    await writeFile(join(usbDev, 'manufacturer'), 'Digilent\n');
    await writeFile(join(usbDev, 'serial'), '210183A1B2C3\n');
    // ttyUSB1: CH340
    const ch = join(base, 'sys/devices/usb1/1-2');
    await mkdir(join(ch, '1-2:1.0/ttyUSB1'), { recursive: true });
    await writeFile(join(ch, 'idVendor'), '1a86\n');
    await writeFile(join(ch, 'idProduct'), '7523\n');
    // ttyS0 has a device (a real 8250 UART); ttyS1 does not and must be skipped.
    await mkdir(join(base, 'sys/devices/platform/serial8250/tty/ttyS0'), { recursive: true });
    for (const n of ['ttyUSB0', 'ttyUSB1', 'ttyACM0', 'ttyS0', 'ttyS1', 'rfcomm0']) await mkdir(join(sys, n), { recursive: true });
    await symlink(join(usbDev, '1-1:1.1/ttyUSB0'), join(sys, 'ttyUSB0/device'));
    await symlink(join(ch, '1-2:1.0/ttyUSB1'), join(sys, 'ttyUSB1/device'));
    await symlink(join(base, 'sys/devices/platform/serial8250/tty/ttyS0'), join(sys, 'ttyS0/device'));

    const list = await listSerialPorts({ devDir: dev, sysDir: sys, skipUdev: true });
    expect(list.method).toBe('dev-scan');
    expect(list.ports.map((p) => p.path.slice(dev.length + 1))).toEqual(['rfcomm0', 'ttyACM0', 'ttyS0', 'ttyUSB0', 'ttyUSB1']);
    const byName = Object.fromEntries(list.ports.map((p) => [p.path.slice(dev.length + 1), p]));
    expect(byName.ttyUSB0).toMatchObject({ kind: 'uart', vendorId: '0403', productId: '6010', manufacturer: 'Digilent', serialNumber: '210183A1B2C3' });
    expect(byName.ttyUSB0!.chip).toMatch(/Digilent/);
    expect(byName.ttyUSB1!.chip).toBe('WCH CH340');
    expect(byName.rfcomm0!.kind).toBe('spp');
    expect(byName.ttyACM0!.vendorId).toBeUndefined();
  });

  it('knows the usual USB-serial bridges', () => {
    expect(guessChip('10c4', 'ea60')).toBe('Silicon Labs CP210x');
    expect(guessChip('067B', '2303')).toBe('Prolific PL2303');
    expect(guessChip('0403', '6001')).toBe('FTDI FT232R');
    expect(guessChip('0403', '6015')).toBe('FTDI FT231X');
    expect(guessChip('dead', 'beef')).toBeUndefined();
  });
});

describe('serial open errors', () => {
  it('turns EACCES into link.permission with the dialout hint', async () => {
    const e = await serialOpenError('/dev/ttyUSB0', new Error('Error: Permission denied, cannot open /dev/ttyUSB0'));
    expect(e.code).toBe('link.permission');
    expect(e.wire).toBe(305);
    expect(e.hint).toMatch(/dialout/);
  });
  it('tells how to bind an rfcomm tty that does not exist', async () => {
    const e = await serialOpenError('/dev/rfcomm3', Object.assign(new Error('no such file'), { code: 'ENOENT' }));
    expect(e.code).toBe('link.open_failed');
    expect(e.hint).toMatch(/rfcomm bind/);
  });
});
