/**
 * A server in its own process, for the crash test: the test SIGKILLs it mid-deployment and starts
 * it again on the same data directory and port. Commands arrive as JSON lines on stdin; events
 * and answers leave as JSON lines on stdout.
 *
 *   node --import tsx test/server-adapter/helpers/server-process.ts <dataDir> <port> [batchIntervalMs]
 */
import { createInterface } from 'node:readline';
import { EparaServer } from '../../../src/server-adapter/server.js';

const [dataDir, portArg, batchArg] = process.argv.slice(2);
const out = (o: unknown): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};

const registry = batchArg !== undefined ? { batchIntervalMs: Number(batchArg) } : undefined;
const server = new EparaServer({ dataDir: dataDir!, periods: { heartbeatMs: 500 }, rttProbeMs: 0, registry });
await server.start();
server.on('deployment-progress', (p) => out({ event: 'progress', ...p }));
server.on('device-registered', (d) => out({ event: 'registered', id: d.id, resumed: d.resumed }));
const { port } = await server.listenTcp({ host: '127.0.0.1', port: Number(portArg) });
out({ event: 'ready', port, pid: process.pid });

createInterface({ input: process.stdin }).on('line', (line) => {
  void (async () => {
    const cmd = JSON.parse(line) as { op: string; [k: string]: unknown };
    try {
      if (cmd.op === 'provision') out({ event: 'provisioned', ...server.provision(cmd as never) });
      else if (cmd.op === 'deploy') {
        const recs = await server.deploy({ ...(cmd as unknown as Parameters<typeof server.deploy>[0]), wait: false });
        out({ event: 'deploying', ids: recs.map((r) => r.id) });
      } else if (cmd.op === 'close') {
        await server.close();
        out({ event: 'closed' });
        process.exit(0);
      }
    } catch (e) {
      out({ event: 'error', error: (e as { toJSON?: () => unknown }).toJSON?.() ?? String(e) });
    }
  })();
});
