import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { lookupUsb, type UsbFingerprint } from './usb-ids.js';

/** One serial port as `epara ports` reports it. */
export interface PortInfo {
  path: string;
  kind: 'usb' | 'spp' | 'uart' | 'gadget' | 'unknown';
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  product?: string;
  serialNumber?: string;
  /** USB interface number (tells FT2232 JTAG from UART). */
  interface?: number;
  /** Kernel driver, e.g. ftdi_sio, cp210x, cdc_acm. */
  driver?: string;
  /** For /dev/rfcommN: the bound Bluetooth address and channel. */
  bluetooth?: { address: string; channel: number; state: string };
  bridge?: string;
  guess: string;
  /** The epara command that usually comes next for this port. */
  next?: string;
}

// Names of kernel ttys that can be a device link. Virtual consoles (tty0..63), ptys and the
// legacy 8250 ports that have no hardware behind them are left out.
const SERIAL_NAME = /^(ttyUSB|ttyACM|ttyAMA|ttyS|ttyTHS|ttyTCU|ttyGS|ttyXRUSB|rfcomm)\d+$/;

function readAttr(dir: string, name: string): string | undefined {
  try {
    return readFileSync(join(dir, name), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Scan /sys/class/tty for serial ports. Reads sysfs directly, so it works in containers and minimal
 * images where `udevadm` (which serialport's own listing needs) is absent.
 */
export function scanSysfs(sysRoot = '/sys', devRoot = '/dev'): PortInfo[] {
  const classDir = join(sysRoot, 'class', 'tty');
  let names: string[];
  try {
    names = readdirSync(classDir);
  } catch {
    names = [];
  }
  const ports: PortInfo[] = [];
  for (const name of names.filter((n) => SERIAL_NAME.test(n)).sort(naturalOrder)) {
    const ttyDir = join(classDir, name);
    const path = join(devRoot, name);
    if (name.startsWith('rfcomm')) {
      ports.push(describe({ path, kind: 'spp', guess: '' }));
      continue;
    }
    let deviceDir: string | undefined;
    try {
      deviceDir = realpathSync(join(ttyDir, 'device'));
    } catch {
      deviceDir = undefined;
    }
    if (!deviceDir) continue; // no hardware behind it
    // An 8250 port with `type` 0 is PORT_UNKNOWN: the kernel reserved the name, there is no UART.
    if (name.startsWith('ttyS') && readAttr(ttyDir, 'type') === '0') continue;
    const driver = driverOf(deviceDir);
    const usb = findUsbDevice(deviceDir, sysRoot);
    if (usb) {
      ports.push(
        describe({
          path,
          kind: 'usb',
          vendorId: readAttr(usb.deviceDir, 'idVendor'),
          productId: readAttr(usb.deviceDir, 'idProduct'),
          manufacturer: readAttr(usb.deviceDir, 'manufacturer'),
          product: readAttr(usb.deviceDir, 'product'),
          serialNumber: readAttr(usb.deviceDir, 'serial'),
          interface: usb.interfaceDir ? parseInt(readAttr(usb.interfaceDir, 'bInterfaceNumber') ?? '', 16) : undefined,
          driver,
          guess: '',
        }),
      );
    } else {
      ports.push(describe({ path, kind: name.startsWith('ttyGS') ? 'gadget' : 'uart', driver, guess: '' }));
    }
  }
  // /dev/rfcommN nodes made by `rfcomm bind` also exist when sysfs is not mounted.
  try {
    for (const n of readdirSync(devRoot).filter((d) => /^rfcomm\d+$/.test(d)).sort(naturalOrder)) {
      const path = join(devRoot, n);
      if (!ports.some((p) => p.path === path)) ports.push(describe({ path, kind: 'spp', guess: '' }));
    }
  } catch {
    /* no /dev listing: nothing to add */
  }
  // Wired ports first, then Bluetooth links, each in natural order (ttyUSB2 before ttyUSB10).
  return ports.sort((a, b) => Number(a.kind === 'spp') - Number(b.kind === 'spp') || naturalOrder(a.path, b.path));
}

function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function driverOf(deviceDir: string): string | undefined {
  try {
    const d = basename(realpathSync(join(deviceDir, 'driver')));
    // serial-base's generic "port" driver says nothing about the hardware.
    return d === 'port' ? undefined : d;
  } catch {
    return undefined;
  }
}

/** Walk up from the tty's device to the USB device (the directory with idVendor/idProduct). */
function findUsbDevice(start: string, sysRoot: string): { deviceDir: string; interfaceDir?: string } | undefined {
  let dir = start;
  let interfaceDir: string | undefined;
  for (let i = 0; i < 8 && dir.startsWith(sysRoot) && dir !== dirname(dir); i++) {
    if (interfaceDir === undefined && existsSync(join(dir, 'bInterfaceNumber'))) interfaceDir = dir;
    if (existsSync(join(dir, 'idVendor')) && existsSync(join(dir, 'idProduct'))) return { deviceDir: dir, interfaceDir };
    dir = dirname(dir);
  }
  return undefined;
}

/** Fill in bridge, guess and next command from what is known about a port. Pure. */
export function describe(p: PortInfo): PortInfo {
  if (p.kind === 'spp') {
    const bt = p.bluetooth ? ` bound to ${p.bluetooth.address} channel ${p.bluetooth.channel} (${p.bluetooth.state})` : '';
    return {
      ...p,
      bridge: 'Bluetooth SPP (rfcomm)',
      guess: `Bluetooth serial link${bt}: an HC-05 in data mode, e.g. the Basys 3 FPGA endpoint`,
      next: `epara serve --serial ${p.path}@9600`,
    };
  }
  if (p.kind === 'usb') {
    const fp: UsbFingerprint | undefined = lookupUsb(p.vendorId, p.productId);
    if (!fp) {
      return { ...p, bridge: [p.manufacturer, p.product].filter(Boolean).join(' ') || 'unknown USB serial device', guess: 'unrecognised USB serial device', next: undefined };
    }
    if (fp.uartInterface !== undefined && p.interface !== undefined && p.interface !== fp.uartInterface) {
      return { ...p, bridge: fp.bridge, guess: `${fp.likely} (this is the JTAG channel: use \`epara flash\`, not a serial link)`, next: 'epara flash <bitstream.bit>' };
    }
    const next =
      fp.role === 'usb-uart'
        ? `epara hc05 ${p.path}   (HC-05 in AT mode)   or   epara serve --serial ${p.path}@115200`
        : fp.role === 'fpga-board'
          ? `epara serve --serial ${p.path}@115200`
          : `epara serve --serial ${p.path}@115200`;
    return { ...p, bridge: fp.bridge, guess: fp.likely, next };
  }
  if (p.kind === 'gadget') return { ...p, bridge: 'USB gadget serial (this machine is the USB device)', guess: 'link to a USB host' };
  if (p.kind === 'uart') {
    const onboard = /^\/dev\/(ttyAMA|ttyTHS|ttyS)/.test(p.path);
    return { ...p, bridge: p.driver ? `on-board UART (${p.driver})` : 'on-board UART', guess: onboard ? 'GPIO/header UART: an MCU or FPGA wired to the pins' : 'serial port', next: `epara serve --serial ${p.path}@115200` };
  }
  return { ...p, guess: p.guess || 'unknown' };
}

/** Parse `rfcomm` (no args) output: "rfcomm0: 98:D3:31:F5:12:34 channel 1 clean". */
export function parseRfcommList(text: string): Map<string, { address: string; channel: number; state: string }> {
  const out = new Map<string, { address: string; channel: number; state: string }>();
  for (const line of text.split('\n')) {
    const m = /^(rfcomm\d+):\s+([0-9A-Fa-f:]{17})\s+channel\s+(\d+)\s+(.+?)\s*$/.exec(line.trim());
    if (m) out.set(m[1]!, { address: m[2]!.toUpperCase(), channel: Number(m[3]), state: m[4]! });
  }
  return out;
}
