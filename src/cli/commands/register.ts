import { Command, Option } from 'commander';
import qrcode from 'qrcode-terminal';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { openRegistry } from '../registry-access.js';
import type { DeviceClass } from '../../protocol/index.js';
import { DEVICE_CLASSES, serverOptions } from '../flags.js';

interface RegisterFlags {
  class: DeviceClass;
  name?: string;
  key?: string;
  qr?: boolean;
  server?: string;
  token?: string;
  init?: boolean;
}

/** What a headless board scans from the QR code: everything it needs to say HELLO and AUTH. */
export function provisioningUri(id: string, deviceClass: string, key: string): string {
  return `epara://device?id=${encodeURIComponent(id)}&class=${deviceClass}&key=${key}`;
}

function renderQr(text: string): Promise<string> {
  return new Promise((resolve) => qrcode.generate(text, { small: true }, resolve));
}

export function registerCommand(ctx: CliContext, exit: ExitState): Command {
  return serverOptions(
    new Command('register')
      .description('provision a device: create its registry entry and print its key (once)')
      .argument('<id>', 'device id (letters, digits, . _ -), e.g. fpga-01')
      .addOption(new Option('--class <class>', 'device class').choices(DEVICE_CLASSES).makeOptionMandatory())
      .option('--name <name>', 'human-readable name (default: the id)')
      .option('--key <hex>', 'use this 32-byte key (64 hex digits) instead of generating one, e.g. one printed on a label')
      .option('--qr', 'also show the key as a QR code (epara://device?id=…&class=…&key=…) for headless boards')
      .option('--init', 'offline, with no registry in the data dir yet: create one (without it a wrong --data-dir is refused)'),
  )
    .addHelpText(
      'after',
      `
Works with a running \`epara serve\` (through its HTTP API) or offline on the registry in the data dir.
The key is shown only now: store it on the device (e.g. EPARA_KEY for the client SDK).
Examples:
  epara register fpga-01 --class fpga --name "Basys 3 on the bench"
  epara register pi-01 --class microcomputer --qr
  epara register jetson-01 --class embedded-gpu --json | jq -r .key > jetson-01.key`,
    )
    .action(
      action(ctx, exit, async (env, id: string, flags: RegisterFlags) => {
        const out = env.out;
        const reg = await openRegistry(env, flags);
        try {
          const res = await reg.provision({ id, deviceClass: flags.class, ...(flags.name ? { name: flags.name } : {}), ...(flags.key ? { key: flags.key } : {}) });
          const uri = provisioningUri(res.id, flags.class, res.key);
          const qr = flags.qr && !out.json ? await renderQr(uri) : undefined;
          out.result({ id: res.id, deviceClass: flags.class, name: flags.name ?? res.id, key: res.key, uri, via: reg.via }, () =>
            [
              `registered ${out.c.bold(res.id)} (${flags.class})${reg.via === 'registry' ? ' in the registry (no server running)' : ' on the running server'}`,
              `key: ${res.key}`,
              out.c.yellow('store this key on the device now: it is not shown again'),
              ...(qr ? ['', qr, `(${uri.replace(res.key, '<key>')})`] : []),
            ].join('\n'),
          );
        } finally {
          await reg.close();
        }
      }),
    );
}
