/**
 * bench/server.ts's server process: an EparaServer on loopback plus a bare TCP acceptor (the
 * baseline for the registration storm). Driven over the IPC channel; reports its own CPU time
 * and resident memory so the figures are the server's alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EparaServer } from '../../src/server-adapter/server.js';

type Cmd =
  | { op: 'provision'; devices: Array<{ id: string; key: string }> }
  | { op: 'sample' }
  | { op: 'close' };

const dataDir = mkdtempSync(join(tmpdir(), 'epara-bench-srv-'));
const server = new EparaServer({
  dataDir,
  periods: { heartbeatMs: 1000, stateSyncMs: 3000 },
  leaseMs: 15_000,
  rttProbeMs: 0,
  authTimeoutMs: 60_000,
});
await server.start();
const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });

const states = new Map<string, string>();
server.on('device-state', (c) => {
  if (c.state === 'left' || c.state === 'lost') states.delete(c.deviceId);
  else states.set(c.deviceId, c.state);
});

// Baseline: accept and hold bare TCP connections, nothing else.
const bare = new Set<Socket>();
const bareServer = createServer((s) => {
  bare.add(s);
  s.on('error', () => undefined);
  s.on('close', () => bare.delete(s));
});
bareServer.maxConnections = 20_000;
await new Promise<void>((r) => bareServer.listen(0, '127.0.0.1', 4096, () => r()));
const barePort = (bareServer.address() as { port: number }).port;

const send = (m: unknown): void => {
  process.send!(m);
};

process.on('message', (cmd: Cmd) => {
  if (cmd.op === 'provision') {
    for (const d of cmd.devices) server.provision({ id: d.id, deviceClass: 'mcu', key: d.key });
    send({ op: 'provisioned', n: cmd.devices.length });
  } else if (cmd.op === 'sample') {
    (globalThis as { gc?: () => void }).gc?.();
    const byState: Record<string, number> = {};
    for (const s of states.values()) byState[s] = (byState[s] ?? 0) + 1;
    send({ op: 'sample', t: performance.now(), cpu: process.cpuUsage(), rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, byState });
  } else if (cmd.op === 'close') {
    void (async () => {
      await server.close({ drainMs: 0 });
      for (const s of bare) s.destroy();
      bareServer.close();
      rmSync(dataDir, { recursive: true, force: true });
      send({ op: 'closed' });
      process.exit(0);
    })();
  }
});
send({ op: 'ready', port, barePort });
