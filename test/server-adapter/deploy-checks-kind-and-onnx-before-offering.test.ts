import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { connectTcp } from '../../src/transport/tcp.js';
import type { EparaServer } from '../../src/server-adapter/server.js';
import { cleanupList, startServer, tmpDir, until } from '../firmware-sims/helpers.js';

const cleanups = cleanupList();
afterEach(() => cleanups.run());

const MODEL = readFileSync(new URL('../../fixtures/models/mlp-classifier.onnx', import.meta.url));
const README = readFileSync(new URL('../../README.md', import.meta.url));
const base = { service: 'cls', version: '1', category: 'latency-single', timeoutMs: 20_000 } as const;

async function fleet(): Promise<EparaServer> {
  const server = await startServer(cleanups);
  const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
  for (const [id, profile] of [['fpga-1', 'fpga'], ['pi-1', 'microcomputer']] as const) {
    const { key } = server.provision({ id, deviceClass: profile });
    const d = await EmulatedDevice.start({ profile, id, key, connector: () => connectTcp({ host: '127.0.0.1', port }), dataDir: tmpDir(cleanups), timeScale: 0 });
    cleanups.add(() => d.close());
  }
  await until(() => server.devices().filter((d) => d.state === 'active').length === 2);
  return server;
}

// Issue 21, defect 4: HELLO announces the formats a device accepts, yet an ONNX model to the
// FPGA or a README as kind blob was offered anyway, and a text file renamed .onnx transferred
// before the device said deploy.load_failed.
describe('deploy checks what the devices can run before offering anything', () => {
  it('a device named by id that cannot run the kind refuses the deploy: no record, no offer', async () => {
    const server = await fleet();
    const audits: string[] = [];
    server.on('audit', (a) => audits.push(a.event));
    for (const [artifact, kind] of [[MODEL, 'onnx'], [README, 'blob']] as const) {
      const err = await server.deploy({ ...base, artifact, kind, to: ['fpga-1'] }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'deploy.unsupported_kind', wire: 403, field: 'kind' });
      expect((err as Error & { reason: string }).reason).toBe(`no ${kind} artifacts for this device: fpga-1 takes int8-fc-weights (from their HELLO)`);
    }
    // One named device that can, one that cannot: still refused whole (the operator named both).
    await expect(server.deploy({ ...base, artifact: MODEL, kind: 'onnx', to: ['pi-1', 'fpga-1'] })).rejects.toMatchObject({ code: 'deploy.unsupported_kind' });
    expect(server.deployments()).toEqual([]);
    expect(audits).not.toContain('deploy.offered');
  });

  it('a group (all, a class) leaves out the devices that cannot and says so in the audit log', async () => {
    const server = await fleet();
    const recs = await server.deploy({ ...base, artifact: MODEL, kind: 'onnx', to: 'all' });
    expect(recs.map((r) => [r.deviceId, r.state])).toEqual([['pi-1', 'ready']]);
    expect(server.auditLog({ event: 'deploy.skipped' }).map((a) => [a.deviceId, a.detail])).toEqual([['fpga-1', 'cls: it takes no onnx artifacts']]);
    await expect(server.deploy({ ...base, service: 'x', artifact: MODEL, kind: 'onnx', to: 'fpga' })).rejects.toMatchObject({ code: 'deploy.unsupported_kind' });
  });

  it('an ONNX artifact that is not a ModelProto is refused before it is offered', async () => {
    const server = await fleet();
    const dir = tmpDir(cleanups);
    const fake = join(dir, 'notes.onnx');
    writeFileSync(fake, 'hello, this is a text file renamed .onnx\n'.repeat(250));
    const err = await server.deploy({ ...base, artifact: fake, kind: 'onnx', to: ['pi-1'] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'deploy.bad_artifact', field: 'artifact' });
    expect((err as { reason: string }).reason).toMatch(/^artifact [0-9a-f]{12}… is not an ONNX model: byte \d+: 0x[0-9a-f]{2} is not a protobuf field tag/);
    // Cut short: the structure runs past the end of the file.
    const cut = join(dir, 'cut.onnx');
    writeFileSync(cut, MODEL.subarray(0, MODEL.length - 10));
    await expect(server.deploy({ ...base, artifact: cut, kind: 'onnx', to: ['pi-1'] })).rejects.toMatchObject({ code: 'deploy.bad_artifact' });
    expect(server.deployments()).toEqual([]);
    // The real model passes the same check.
    expect((await server.deploy({ ...base, artifact: MODEL, kind: 'onnx', to: ['pi-1'] }))[0]!.state).toBe('ready');
  });
});
