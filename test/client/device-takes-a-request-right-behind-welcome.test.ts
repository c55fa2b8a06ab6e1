/**
 * SPEC §7.1 restricts only what comes before WELCOME: the server may send a request right behind
 * it, and on a fast link both frames arrive in one read. The device used to put its request
 * handler on only after its await of WELCOME returned, so a DEPLOY_OFFER in the same read was
 * answered not_supported (the chaos test found it with EPARA_CHAOS_SEED=5; the server then waited
 * for the device to speak first, which left a co-simulated FPGA's deploy unsent).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import type { Message } from '../../src/protocol/index.js';
import { ScriptedServer } from './scripted-server.js';

const key = randomBytes(32);
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a request right behind WELCOME', () => {
  it('is handled once the handshake is done, not refused as not_supported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'epara-behind-welcome-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const bytes = randomBytes(100);
    const refused = (e: { code?: string }) => ({ refused: String(e.code) });
    let answers: Array<Promise<Message | { refused: string }>> = [];
    // Written in the same turn as WELCOME, so both frames reach the device together.
    const server = new ScriptedServer({
      key,
      coalesceMs: 5,
      behindWelcome: (link) => {
        answers = [
          link.request({ type: 'PLACEMENT', planVersion: 1, ops: [{ action: 'unload', service: 'nothing' }] }).catch(refused),
          link.request({ type: 'DEPLOY_OFFER', deploymentId: 9, service: 'cls', version: '1', kind: 'onnx', size: bytes.length, sha256: createHash('sha256').update(bytes).digest(), chunkSize: 64, category: 'latency-single' }).catch(refused),
        ];
      },
    });
    const dev = await EparaDevice.connect({ connector: server.connector(), id: 'dev-1', key, deviceClass: 'microcomputer', dataDir: dir });
    cleanups.push(() => dev.close());
    expect(answers).toHaveLength(2);
    const [placement, offer] = await Promise.all(answers);
    expect(placement).toMatchObject({ type: 'PLACEMENT_ACK', results: [{ service: 'nothing', code: 601 }] });
    expect(offer).toMatchObject({ type: 'DEPLOY_ACCEPT', deploymentId: 9, nextOffset: 0 });
  });
});
