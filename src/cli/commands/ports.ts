import { Command, Option } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { describe, parseRfcommList, scanSysfs, type PortInfo } from '../port-scan.js';
import { findOnPath, runTool } from '../external-tools.js';
import { renderTable } from '../output.js';
import { listSerialPorts } from '../../transport/serial-ports.js';

interface PortsOptions {
  sysRoot?: string;
  devRoot?: string;
}

/** Ports the transport layer's listing knows (serialport + udev, or its own /dev scan). */
async function transportPorts(): Promise<{ ports: PortInfo[]; note?: string }> {
  const list = await listSerialPorts();
  return {
    note: list.note,
    ports: list.ports.map((p) =>
      describe({
        path: p.path,
        kind: p.kind === 'spp' ? 'spp' : p.vendorId ? 'usb' : 'uart',
        vendorId: p.vendorId?.toLowerCase(),
        productId: p.productId?.toLowerCase(),
        manufacturer: p.manufacturer,
        serialNumber: p.serialNumber,
        guess: '',
      }),
    ),
  };
}

export function portsCommand(ctx: CliContext, exit: ExitState): Command {
  return new Command('ports')
    .description('list serial ports and guess what is attached (USB-UART bridges by VID:PID, /dev/rfcomm* as Bluetooth SPP)')
    .addOption(new Option('--sys-root <dir>', 'read sysfs from here (tests)').hideHelp())
    .addOption(new Option('--dev-root <dir>', 'read device nodes from here (tests)').hideHelp())
    .addHelpText(
      'after',
      `
Reads /sys/class/tty directly, so it also works where udevadm is missing (containers, minimal images).
Examples:
  epara ports
  epara ports --json | jq '.[] | select(.kind == "spp")'`,
    )
    .action(
      action(ctx, exit, async (env, opts: PortsOptions) => {
        const out = env.out;
        const ports = scanSysfs(opts.sysRoot ?? '/sys', opts.devRoot ?? '/dev');
        if (!opts.sysRoot) {
          const t = await transportPorts();
          if (t.note) out.detail(`transport listing: ${t.note}`);
          for (const p of t.ports) if (!ports.some((q) => q.path === p.path)) ports.push(p);
        }
        // Name the Bluetooth peer behind each /dev/rfcommN when BlueZ's rfcomm tool is there.
        const rfcomm = ports.some((p) => p.kind === 'spp') ? findOnPath('rfcomm', env.ctx.env) : undefined;
        if (rfcomm) {
          const res = await runTool(rfcomm, [], { env: env.ctx.env, timeoutMs: 5000 }).catch(() => undefined);
          const bound = res && res.code === 0 ? parseRfcommList(res.stdout) : new Map();
          for (let i = 0; i < ports.length; i++) {
            const p = ports[i]!;
            const name = p.path.split('/').pop()!;
            if (p.kind === 'spp' && bound.has(name)) ports[i] = describe({ ...p, bluetooth: bound.get(name) });
          }
        }
        out.result(ports, () => {
          if (ports.length === 0) return 'no serial ports found (plug in a USB-UART adapter, or pair an HC-05 with `epara pair <MAC>`)';
          const usbId = (p: PortInfo) => (p.vendorId ? `${p.vendorId}:${p.productId ?? '????'}` : '-');
          const table = renderTable(
            ports,
            [
              { header: 'PORT', value: (p) => p.path, paint: (s) => out.c.bold(s) },
              { header: 'USB ID', value: usbId },
              { header: 'BRIDGE', value: (p) => p.bridge ?? '-' },
              { header: 'PROBABLY', value: (p) => p.guess },
            ],
            out.c,
          );
          const next = ports.filter((p) => p.next).map((p) => `  ${p.path}: ${p.next}`);
          return table + (next.length && !out.quiet ? `\nnext steps:\n${next.join('\n')}\n` : '');
        });
      }),
    );
}
