import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EparaServer, type EparaServerOptions } from '../../src/server-adapter/server.js';

export type Cleanup = () => Promise<void> | void;

export function cleanupList(): { add(c: Cleanup): void; run(): Promise<void> } {
  const list: Cleanup[] = [];
  return {
    add: (c) => void list.push(c),
    async run() {
      for (const c of list.splice(0).reverse()) await c();
    },
  };
}

export function tmpDir(cleanups: { add(c: Cleanup): void }, prefix = 'epara-sims-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  cleanups.add(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export async function startServer(cleanups: { add(c: Cleanup): void }, over: Partial<EparaServerOptions> = {}): Promise<EparaServer> {
  const server = new EparaServer({ dataDir: tmpDir(cleanups, 'epara-srv-'), periods: { stateSyncMs: 200, heartbeatMs: 500 }, ...over });
  await server.start();
  cleanups.add(() => server.close({ drainMs: 0 }));
  return server;
}

export async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
