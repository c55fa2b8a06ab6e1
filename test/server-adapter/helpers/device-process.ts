/**
 * A device in its own process, for the crash tests: the test SIGKILLs it at a chosen state of a
 * deployment and starts it again on the same data directory. A real EparaDevice over TCP with the
 * real ONNX runtime; loading can be slowed (`loadDelayMs`) so a kill lands while it loads.
 * Events leave as JSON lines on stdout; commands arrive as JSON lines on stdin.
 *
 *   node --import tsx test/server-adapter/helpers/device-process.ts <json config>
 *   config: { id, key, dataDir, port, maxFrame?, loadDelayMs?, link?: { lossy... } }
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { handlerRunner } from '../../../src/client/runner.js';
import { tensorFrom } from '../../../src/protocol/index.js';
import { EparaDevice } from '../../../src/client/device.js';
import { OnnxModel } from '../../../src/client/onnx-runtime.js';
import { emulatedSerialPair, type LinkControl } from '../../../firmware-sims/links/serial-link.js';
import type { ByteStream } from '../../../src/transport/byte-stream.js';
import { connectTcp } from '../../../src/transport/tcp.js';
import type { DeviceProcessConfig } from './child-processes.js';

const cfg = JSON.parse(process.argv[2]!) as DeviceProcessConfig;
const out = (o: unknown): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};

/** The link in use now, so `drop` can cut it. */
let current: { stream: ByteStream; control?: LinkControl } | undefined;
let links = 0;

/**
 * TCP to the server; with `lossy`, through an emulated serial line (firmware-sims) that loses
 * bytes: the device speaks UART framing and timeouts over a line that drops `lossRate` of them,
 * and the line's far end is piped into the TCP socket.
 */
async function connect(): Promise<ByteStream> {
  const tcp = await connectTcp({ host: '127.0.0.1', port: cfg.port });
  if (!cfg.lossy) {
    current = { stream: tcp };
    return tcp;
  }
  const [device, line, control] = emulatedSerialPair({ kind: 'uart', baud: cfg.lossy.baud, lossRate: cfg.lossy.lossRate, seed: (cfg.lossy.seed + links++) >>> 0, name: `lossy-uart-${cfg.id}` });
  line.on('data', (b) => void tcp.write(b).catch(() => undefined));
  tcp.on('data', (b) => void line.write(b).catch(() => undefined));
  tcp.on('close', () => control.disconnect());
  line.on('close', () => void tcp.close().catch(() => undefined));
  current = { stream: device, control };
  return device;
}

const device = new Promise<EparaDevice>((resolve, reject) => {
  EparaDevice.connect({
    id: cfg.id,
    key: cfg.key,
    deviceClass: 'microcomputer',
    dataDir: cfg.dataDir,
    maxFrame: cfg.maxFrame ?? 4096,
    ...(cfg.heartbeatMs ? { keepaliveMs: cfg.heartbeatMs } : {}),
    connector: connect,
    reconnect: { initialMs: 50, maxMs: 300 },
    // The server may be down when this process starts (the test restarts both in any order).
    connectTimeoutMs: 120_000,
    runtimes: {
      onnx: async (rec) => {
        out({ event: 'loading', service: rec.service, version: rec.version });
        if (cfg.loadDelayMs) await new Promise((r) => setTimeout(r, cfg.loadDelayMs));
        const m = await OnnxModel.load(rec.path);
        await m.warmUp();
        return m;
      },
      // A blob "model" answers with its own size and SHA-256: a test can check which bytes serve.
      blob: async (rec) => {
        const bytes = await readFile(rec.path);
        const digest = new Uint8Array(createHash('sha256').update(bytes).digest());
        return handlerRunner(() => [tensorFrom('size', Uint32Array.of(bytes.length), [1]), tensorFrom('sha256', digest, [32])]);
      },
    },
    hooks: {
      chunkStored: (i) => out({ event: 'chunk', deploymentId: i.deploymentId, nextOffset: i.nextOffset, size: i.size }),
    },
  }).then(resolve, reject);
});

device.then(
  (d) => {
    out({ event: 'ready', pid: process.pid, services: d.serviceInfo() });
    d.on('deployed', (e) => out({ event: 'deployed', service: e.service, version: e.version, state: e.state, error: e.error?.code }));
    d.on('registered', (r) => out({ event: 'registered', resumed: r.resumed }));
    d.on('state', (st) => out({ event: 'session', state: st }));
    d.on('link-lost', (why) => out({ event: 'link-lost', reason: String((why as { code?: string })?.code ?? why) }));
  },
  (e: unknown) => {
    out({ event: 'connect-failed', error: (e as Error).message });
    process.exit(2);
  },
);

createInterface({ input: process.stdin }).on('line', (line) => {
  void (async () => {
    const cmd = JSON.parse(line) as { op: string };
    const d = await device;
    if (cmd.op === 'services') out({ event: 'services', services: d.serviceInfo() });
    else if (cmd.op === 'drop') {
      // The link drops under the device (cable pulled, radio gone); it reconnects by itself.
      if (current?.control) current.control.disconnect();
      else await current?.stream.close().catch(() => undefined);
      out({ event: 'dropped' });
    }
    else if (cmd.op === 'close') {
      await d.close();
      out({ event: 'closed' });
      process.exit(0);
    }
  })();
});
