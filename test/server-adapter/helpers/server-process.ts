/**
 * A server in its own process, for the crash test: the test SIGKILLs it mid-deployment and starts
 * it again on the same data directory and port. Commands arrive as JSON lines on stdin; events
 * and answers leave as JSON lines on stdout.
 *
 *   node --import tsx test/server-adapter/helpers/server-process.ts <dataDir> <port> [batchIntervalMs]
 */
import { createInterface } from 'node:readline';
import { tensorFrom } from '../../../src/protocol/index.js';
import { EparaServer } from '../../../src/server-adapter/server.js';

const [dataDir, portArg, batchArg] = process.argv.slice(2);
const out = (o: unknown): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};

/** Inputs of the fixture models (fixtures/models/README.md). */
const INPUTS = {
  mlp: () => tensorFrom('input', new Float32Array(16).fill(0.5), [1, 16]),
  seg: () => tensorFrom('image', new Float32Array(64).fill(0.25), [1, 1, 8, 8]),
  dec: () => tensorFrom('tokens', BigInt64Array.from({ length: 8 }, (_, i) => BigInt(i + 1)), [1, 8]),
  blob: () => tensorFrom('any', Uint8Array.of(0), [1]),
};

/** The blob runner's answer (test/server-adapter/helpers/device-process.ts): the SHA-256 of the bytes it serves. */
const blobSha = (outputs: Array<{ name: string; data: Uint8Array }>): string | undefined => {
  const t = outputs.find((o) => o.name === 'sha256');
  return t ? Buffer.from(t.data).toString('hex') : undefined;
};

const registry = batchArg !== undefined ? { batchIntervalMs: Number(batchArg) } : undefined;
const server = new EparaServer({ dataDir: dataDir!, periods: { heartbeatMs: 500 }, rttProbeMs: 0, registry });
await server.start();
server.on('deployment-progress', (p) => out({ event: 'progress', ...p }));
server.on('device-registered', (d) => out({ event: 'registered', id: d.id, resumed: d.resumed }));
server.on('device-state', (c) => out({ event: 'device-state', ...c }));
server.on('audit', (a) => out({ ...a, event: 'audit', audited: a.event }));
server.on('error', (e) => out({ event: 'server-error', message: e.message, code: (e as { code?: string }).code }));
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
      } else if (cmd.op === 'undeploy') {
        out({ event: 'undeploy', results: await server.undeploy(cmd.service as string) });
      } else if (cmd.op === 'records') {
        out({ event: 'records', records: server.deployments() });
      } else if (cmd.op === 'infer') {
        // One of the fixture models' inputs (default the MLP's); an error is an answer too.
        const input = [INPUTS[(cmd.model as keyof typeof INPUTS | undefined) ?? 'mlp']()];
        const r = await server.infer(cmd.service as string, input, { deadlineMs: 10_000, ...(cmd.deviceId ? { deviceId: cmd.deviceId as string } : {}) }).then(
          (x) => ({ ok: true, deviceId: x.deviceId, sha256: blobSha(x.outputs) }),
          (e: { code?: string }) => ({ ok: false, code: e.code }),
        );
        out({ event: 'inferred', ...r });
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
