import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** USB-serial bridges epara users plug in, by USB vendor:product id (lower-case hex). */
const CHIPS: Record<string, string> = {
  '10c4:ea60': 'Silicon Labs CP210x',
  '1a86:7523': 'WCH CH340',
  '1a86:55d4': 'WCH CH9102',
  '0403:6001': 'FTDI FT232R',
  '0403:6010': 'FTDI FT2232 (Digilent boards such as the Basys 3 use this)',
  '0403:6014': 'FTDI FT232H',
  '0403:6015': 'FTDI FT231X',
  '067b:2303': 'Prolific PL2303',
};

export function guessChip(vendorId?: string, productId?: string, manufacturer?: string): string | undefined {
  if (!vendorId || !productId) return undefined;
  const key = `${vendorId.toLowerCase().padStart(4, '0')}:${productId.toLowerCase().padStart(4, '0')}`;
  const chip = CHIPS[key];
  if (chip && key === '0403:6010' && /digilent/i.test(manufacturer ?? '')) return 'Digilent FTDI FT2232 (Basys 3 / Arty USB-UART)';
  return chip;
}

export interface SerialPortInfo {
  path: string;
  /** 'spp' for Bluetooth RFCOMM ttys (e.g. an HC-05 bound with `rfcomm bind`). */
  kind: 'uart' | 'spp';
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  product?: string;
  serialNumber?: string;
  /** Our guess of the USB-serial chip from vendorId:productId. */
  chip?: string;
}

export interface SerialPortList {
  ports: SerialPortInfo[];
  /** How the list was made: serialport's udev-based list, or our scan of /dev + /sys. */
  method: 'udev' | 'dev-scan';
  /** Set when we fell back, saying why (e.g. "udevadm not found"). */
  note?: string;
}

const kindOf = (path: string): 'uart' | 'spp' => (/rfcomm/.test(path) ? 'spp' : 'uart');

/**
 * Lists serial ports. Tries serialport's list (which shells out to udevadm on Linux) and, when
 * that fails — udevadm is missing on minimal images and containers — scans /dev and reads USB
 * ids from /sys instead, saying so in `note`. Never throws.
 */
export async function listSerialPorts(opts: { devDir?: string; sysDir?: string; skipUdev?: boolean } = {}): Promise<SerialPortList> {
  let why = 'skipped udev';
  if (!opts.skipUdev) {
    try {
      const { SerialPort } = await import('serialport');
      const listed = await SerialPort.list();
      return {
        method: 'udev',
        ports: listed.map((p) => ({
          path: p.path,
          kind: kindOf(p.path),
          vendorId: p.vendorId,
          productId: p.productId,
          manufacturer: p.manufacturer,
          serialNumber: p.serialNumber,
          chip: guessChip(p.vendorId, p.productId, p.manufacturer),
        })),
      };
    } catch (err) {
      why = /udevadm/.test(String((err as Error)?.message)) ? 'udevadm not found' : `serialport list failed: ${(err as Error)?.message ?? err}`;
    }
  }
  const ports = await scanDev(opts.devDir ?? '/dev', opts.sysDir ?? '/sys/class/tty');
  return { method: 'dev-scan', ports, note: `${why}; fell back to scanning /dev and /sys (USB ids shown where the kernel exposes them)` };
}

const PATTERN = /^(ttyUSB|ttyACM|ttyS|ttyAMA|ttyTHS|rfcomm)\d+$/;

async function scanDev(devDir: string, sysDir: string): Promise<SerialPortInfo[]> {
  const names = await readdir(devDir).catch(() => [] as string[]);
  const out: SerialPortInfo[] = [];
  for (const name of names.filter((n) => PATTERN.test(n)).sort(naturalOrder)) {
    const path = join(devDir, name);
    // The kernel creates ttyS0..N whether or not a UART is behind them; keep only those with
    // a device in /sys, like udev would.
    if (name.startsWith('ttyS') && !(await exists(join(sysDir, name, 'device')))) continue;
    const info: SerialPortInfo = { path, kind: kindOf(name) };
    Object.assign(info, await usbIds(join(sysDir, name, 'device')));
    info.chip = guessChip(info.vendorId, info.productId, info.manufacturer);
    out.push(info);
  }
  return out;
}

/** Walks up from the tty's device node to the USB device that has idVendor/idProduct. */
async function usbIds(deviceLink: string): Promise<Partial<SerialPortInfo>> {
  let dir = await realpath(deviceLink).catch(() => undefined);
  for (let i = 0; dir && i < 5; i++, dir = dirname(dir)) {
    const vendorId = await readTrim(join(dir, 'idVendor'));
    if (vendorId) {
      return {
        vendorId,
        productId: await readTrim(join(dir, 'idProduct')),
        manufacturer: await readTrim(join(dir, 'manufacturer')),
        product: await readTrim(join(dir, 'product')),
        serialNumber: await readTrim(join(dir, 'serial')),
      };
    }
  }
  return {};
}

const readTrim = (p: string): Promise<string | undefined> =>
  readFile(p, 'utf8').then(
    (s) => s.trim() || undefined,
    () => undefined,
  );
const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);
const naturalOrder = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });
