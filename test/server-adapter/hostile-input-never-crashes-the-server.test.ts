import fc from 'fast-check';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFromHex } from '../../src/device-mgmt/identity.js';
import { EparaError } from '../../src/errors.js';
import { messageFromJson, type Message } from '../../src/protocol/index.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { RawDevice, until } from './helpers/raw-device.js';

/** Every message of the SPEC, one valid example each (the golden vectors). */
const VECTORS = (JSON.parse(readFileSync(new URL('../../protocol/vectors/valid.json', import.meta.url), 'utf8')) as { vectors: Array<{ message: Record<string, unknown> }> }).vectors.map((v) =>
  messageFromJson(v.message),
);

let dir: string;
let server: EparaServer;
let port: number;
let bystander: RawDevice;
let key: Uint8Array;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-hostile-'));
  server = new EparaServer({ dataDir: dir, rttProbeMs: 0, authTimeoutMs: 2000 });
  await server.start();
  port = (await server.listenTcp({ port: 0 })).port;
  key = keyFromHex(server.provision({ id: 'victim', deviceClass: 'mcu' }).key);
  const byKey = keyFromHex(server.provision({ id: 'bystander', deviceClass: 'mcu' }).key);
  bystander = await RawDevice.connect(port);
  await bystander.register('bystander', byKey);
});
afterAll(async () => {
  await bystander?.close().catch(() => undefined);
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('hostile input', () => {
  it('random byte streams never crash the server; a real device registers afterwards', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 0, maxLength: 700 }), { minLength: 1, maxLength: 4 }), async (chunks) => {
        const s = await connectTcp({ host: '127.0.0.1', port });
        for (const c of chunks) await s.write(c).catch(() => undefined);
        await s.close();
      }),
      { numRuns: 40, seed: 42 },
    );
    const d = await RawDevice.connect(port);
    await d.register('victim', key);
    expect(await d.heartbeat()).toMatchObject({ type: 'HEARTBEAT_ACK' });
    await d.close();
  });

  it('every message type, sent as a request before and after the handshake, gets an answer or is dropped — never a crash', async () => {
    for (const phase of ['before', 'after'] as const) {
      const d = await RawDevice.connect(port);
      if (phase === 'after') await d.register('victim', key);
      for (const m of VECTORS) {
        if (m.type === 'HELLO' || m.type === 'AUTH' || d.closed) continue;
        const r = await Promise.race([d.send(m as Message), new Promise<'silent'>((res) => setTimeout(() => res('silent'), 300))]);
        if (r === 'silent') continue;
        if (r instanceof EparaError) expect(r.code).toMatch(/^(auth|msg|link|proto|deploy|infer|placement|internal|not_supported)/);
        else expect(typeof (r as Message).type).toBe('string');
      }
      await d.close();
      await until(() => server.device('victim')?.state !== 'active' || phase === 'before');
    }
    const again = await RawDevice.connect(port);
    await again.register('victim', key);
    expect(await again.heartbeat()).toMatchObject({ type: 'HEARTBEAT_ACK' });
    await again.close();
    // The device that was connected all along never noticed.
    expect(await bystander.heartbeat()).toMatchObject({ type: 'HEARTBEAT_ACK' });
  });
});
