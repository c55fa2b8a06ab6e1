import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A sysfs tree like a gateway with a Basys 3, a CH340 adapter, a Pico and a bound HC-05. */
export function fakeSysfs(root: string): { sys: string; dev: string } {
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
