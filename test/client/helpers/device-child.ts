/**
 * An EparaDevice in its own process, for the device crash test: the test SIGKILLs it
 * mid-transfer and starts it again on the same data directory. Events leave as JSON lines.
 *
 *   node --import tsx test/client/helpers/device-child.ts <port> <id> <keyHex> <dataDir>
 */
import { EparaDevice } from '../../../src/client/device.js';
import { handlerRunner } from '../../../src/client/runner.js';
import { connectTcp } from '../../../src/transport/tcp.js';

const [port, id, key, dataDir] = process.argv.slice(2) as [string, string, string, string];
const out = (o: unknown): void => void process.stdout.write(JSON.stringify(o) + '\n');

const device = await EparaDevice.connect({
  connector: () => connectTcp({ host: '127.0.0.1', port: Number(port) }),
  id,
  key,
  deviceClass: 'microcomputer',
  dataDir,
  caps: { formats: ['blob'] },
  runtimes: { blob: async () => handlerRunner(() => []) },
});
let reported = 0;
device.on('deploy-progress', (p) => {
  // One line per MiB: enough for the test to pick its moment without flooding the pipe.
  if (p.nextOffset - reported >= 1 << 20 || p.nextOffset === p.size) {
    reported = p.nextOffset;
    out({ event: 'progress', nextOffset: p.nextOffset, size: p.size });
  }
});
device.on('deployed', (d) => out({ event: 'deployed', service: d.service, state: d.state }));
out({ event: 'connected', pid: process.pid });
