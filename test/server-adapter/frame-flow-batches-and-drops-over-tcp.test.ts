import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { tensorFrom, tensorValues, type Tensor } from '../../src/protocol/index.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import type { FrameOutcome } from '../../src/server-adapter/frame-flows.js';
import { connectTcp } from '../../src/transport/tcp.js';

// A real conv-segmenter ONNX model ([N,1,8,8] -> scores, mask) on an emulated Pi-class device over
// real TCP, paced by its profile ('segmentation' is 4 ms of vision work on a GPU server, ≈ 53 ms
// for one frame on a microcomputer; a batch of k frames costs 3 + 50·(1 + 0.85·(k − 1)) ms).
const MODEL = readFileSync(new URL('../../fixtures/models/conv-segmenter.onnx', import.meta.url));

let dir: string;
let server: EparaServer;
let device: EmulatedDevice;
let served = 0;

function frame(seed: number): Tensor[] {
  const x = new Float32Array(64);
  for (let i = 0; i < 64; i++) x[i] = Math.sin(seed * 7 + i) > 0.2 ? 1 : 0;
  return [tensorFrom('image', x, [1, 1, 8, 8])];
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-flow-'));
  server = new EparaServer({ dataDir: join(dir, 'server'), periods: { heartbeatMs: 500, stateSyncMs: 200 }, rttProbeMs: 0 });
  await server.start();
  const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
  const { key } = server.provision({ id: 'pi-1', deviceClass: 'microcomputer' });

  device = await EmulatedDevice.start({
    profile: 'microcomputer',
    id: 'pi-1',
    key,
    connector: () => connectTcp({ host: '127.0.0.1', port }),
    dataDir: join(dir, 'pi-1'),
    timeScale: 1,
    // Counts the requests that reach the device (a dropped frame must never get here).
    behaviour: { answerLateMs: (m) => (m.type === 'INFER_REQUEST' && served++, 0) },
  });
  const [rec] = await server.deploy({ artifact: MODEL, service: 'segmentation', version: '1.0.0', kind: 'onnx', category: 'frequency-single', to: ['pi-1'], timeoutMs: 20_000 });
  expect(rec!.state).toBe('ready');
  served = 0;
});
afterEach(async () => {
  await device?.close().catch(() => undefined);
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a frame flow through a real server to an emulated device over TCP', () => {
  it('packs the frames that wait for credit into batched requests and splits the answers back, bit-exact', async () => {
    const flow = server.openFlow('segmentation', { fps: 100, budgetMs: 5000, maxBatch: 8, credits: { initial: 1, max: 4 } });
    // Twelve frames at once: one goes out, the other eleven wait; each answer in time adds a
    // credit, so they leave in batches of up to four.
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => flow.push(frame(i))));
    expect(outcomes.map((o) => o.status)).toEqual(Array(12).fill('ok'));
    const largest = Math.max(...outcomes.map((o) => o.batch!));
    expect(largest).toBeGreaterThan(1);
    expect(largest).toBeLessThanOrEqual(4);
    const stats = await flow.close();
    expect(stats).toMatchObject({ offered: 12, sent: 12, onTime: 12, droppedAtGateway: 0, late: 0, failed: 0 });
    expect(stats.batches).toBeLessThan(12);
    expect(served).toBe(stats.batches); // one INFER_REQUEST per batch
    // Each frame's share of a batched answer equals the answer to that frame alone.
    for (const [i, o] of outcomes.entries()) {
      const alone = await server.infer('segmentation', frame(i), { deadlineMs: 5000 });
      expect(o.outputs!.map((t) => t.shape)).toEqual(alone.outputs.map((t) => t.shape));
      expect(o.outputs!.map((t) => Buffer.from(t.data).toString('hex'))).toEqual(alone.outputs.map((t) => Buffer.from(t.data).toString('hex')));
    }
    expect(tensorValues(outcomes[0]!.outputs!.find((t) => t.name === 'mask')!).length).toBe(64);
  });

  it('drops at the gateway, never sending them, frames that would miss their budget, and reports attainment', async () => {
    // One frame at a time (credit 1), ≈ 53 ms each on this device, 50 frames a second arriving:
    // the waiting line grows 2.6× faster than it drains, so frames that waited until their 150 ms
    // budget is shorter than the predicted answer are dropped before they are sent.
    const flow = server.openFlow('segmentation', { fps: 50, budgetMs: 150, maxBatch: 4, credits: { initial: 1, max: 1 } });
    const seen: FrameOutcome[] = [];
    flow.on('frame', (o) => seen.push(o));
    const stats = await flow.run(30, frame);
    expect(stats.offered).toBe(30);
    expect(stats.droppedAtGateway).toBeGreaterThan(0);
    expect(stats.onTime).toBeGreaterThan(0);
    expect(stats.sent + stats.droppedAtGateway).toBe(30);
    // Dropped frames never reached the device. The device counts a request once its handler ran,
    // and the flow may end while the last batch is still running there (answered late), so wait
    // for the device to catch up; a count above the batches would never come back down.
    await vi.waitFor(() => expect(served).toBe(stats.batches), { timeout: 3000, interval: 20 });
    expect(seen.filter((o) => o.status === 'dropped').length).toBe(stats.droppedAtGateway);
    expect(stats.attainment).toBeCloseTo(stats.onTime / 30, 9);
    expect(stats.achievedFps).toBeGreaterThan(0);
    expect(stats.achievedFps).toBeLessThan(50);
  });

  it('answers a frame that does not stack with the flow as a typed bad_input, without sending it', async () => {
    const flow = server.openFlow('segmentation', { fps: 10, budgetMs: 1000 });
    expect((await flow.push(frame(1))).status).toBe('ok');
    const bad = await flow.push([tensorFrom('image', new Float32Array(16), [1, 1, 4, 4])]);
    expect(bad.status).toBe('failed');
    expect(bad.error?.code).toBe('infer.bad_input');
    expect(served).toBe(1);
    expect(() => server.openFlow('segmentation', { fps: 0 })).toThrow(/fps/);
    await flow.close();
  });
});
