/**
 * A server in its own process whose memory the test reads from /proc: commands arrive as JSON
 * lines on stdin, answers leave as JSON lines on stdout. Run with --expose-gc so `rss` can be
 * read after a collection (what the server still holds, not what it has not collected yet).
 *
 *   node --expose-gc --import tsx test/server-adapter/helpers/memory-server-process.ts <dataDir>
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { EparaServer } from '../../../src/server-adapter/server.js';

const [dataDir] = process.argv.slice(2) as [string];
const out = (o: unknown): void => void process.stdout.write(JSON.stringify(o) + '\n');
/** VmRSS and VmHWM (peak) of this process, bytes. */
function memory(): { rss: number; peak: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string) => Number(/^\s*(\d+)/.exec(status.split(`${k}:`)[1] ?? '')?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

const server = new EparaServer({ dataDir, maxFrame: 65535, window: 16, rttProbeMs: 0, periods: { heartbeatMs: 1000 } });
await server.start();
const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
out({ event: 'ready', port });

createInterface({ input: process.stdin }).on('line', (line) => {
  void (async () => {
    const cmd = JSON.parse(line) as { op: string; [k: string]: unknown };
    try {
      if (cmd.op === 'provision') out({ event: 'provisioned', ...server.provision(cmd as never) });
      else if (cmd.op === 'memory') {
        (globalThis as { gc?: () => void }).gc?.();
        out({ event: 'memory', ...memory() });
      } else if (cmd.op === 'reset-peak') {
        // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0).
        (globalThis as { gc?: () => void }).gc?.();
        const { writeFileSync } = await import('node:fs');
        writeFileSync('/proc/self/clear_refs', '5');
        out({ event: 'peak-reset', ...memory() });
      } else if (cmd.op === 'deploy') {
        const recs = await server.deploy({ ...(cmd as unknown as Parameters<typeof server.deploy>[0]), timeoutMs: 120_000 });
        out({ event: 'deployed', records: recs.map((r) => ({ id: r.id, state: r.state, errorCode: r.errorCode })) });
      } else if (cmd.op === 'undeploy') {
        out({ event: 'undeployed', results: await server.undeploy(cmd.service as string) });
      } else if (cmd.op === 'close') {
        await server.close({ drainMs: 0 });
        out({ event: 'closed' });
        process.exit(0);
      }
    } catch (e) {
      out({ event: 'error', error: (e as { toJSON?: () => unknown }).toJSON?.() ?? String(e) });
    }
  })();
});
