import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EparaDevice } from '../../../src/client/device.js';
import { handlerRunner } from '../../../src/client/runner.js';
import type { DeploymentRecord } from '../../../src/device-mgmt/registry/store.js';
import type { Message } from '../../../src/protocol/index.js';
import { EparaServer } from '../../../src/server-adapter/server.js';
import type { FrameLink } from '../../../src/transport/frame-link.js';
import { mulberry32 } from '../../../firmware-sims/links/prng.js';
import { emulatedSerialPair, type LinkControl, type SerialLinkOptions } from '../../../firmware-sims/links/serial-link.js';
import { VirtualClock } from '../../../firmware-sims/links/virtual-clock.js';

export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function seeded(n: number, seed: number): Uint8Array {
  const r = mulberry32(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r.int(256);
  return out;
}

/** Counts DEPLOY_CHUNK requests on a link and how each settled: every one must settle exactly once. */
export interface ChunkRequestCount {
  calls: number;
  resolved: number;
  /** Abandoned by the sender (a later cumulative ack covered the chunk, or a go-back superseded it). */
  abandoned: number;
  /** Any other rejection: a request that failed. */
  failed: number;
}

function counted(link: FrameLink): ChunkRequestCount {
  const c: ChunkRequestCount = { calls: 0, resolved: 0, abandoned: 0, failed: 0 };
  const orig = link.request.bind(link);
  link.request = (msg: Message, o?: Parameters<FrameLink['request']>[1]) => {
    if (msg.type !== 'DEPLOY_CHUNK') return orig(msg, o);
    c.calls++;
    return orig(msg, o).then(
      (m) => {
        c.resolved++;
        return m;
      },
      (e: unknown) => {
        if ((e as { code?: string }).code === 'deploy.chunk_superseded') c.abandoned++;
        else c.failed++;
        throw e;
      },
    );
  };
  return c;
}

export interface LossyDeployResult {
  record: DeploymentRecord;
  /** The bytes the device stored as the verified artifact. */
  stored: Uint8Array;
  count: ChunkRequestCount;
  /** seq (unwrapped past 2^16) of every DEPLOY_CHUNK request the device's link handed to the device (executed). */
  executedSeqs: number[];
  server: FrameLink;
  device: FrameLink;
  ctl: LinkControl;
  virtualMs: number;
}

/**
 * The production deploy path end to end on an emulated serial line in virtual time:
 * EparaServer (its Deployer and the one deploy sender) → the firmware-sims link emulator with the
 * given faults → EparaDevice (the device SDK, its artifact store on a real disk). The clock waits
 * for file-system requests, so the device's writes and hashing take no line time.
 */
export async function lossyDeploy(data: Uint8Array, line: SerialLinkOptions, o: { maxFrame?: number; window?: number } = {}): Promise<LossyDeployResult> {
  const dir = mkdtempSync(join(tmpdir(), 'epara-lossy-'));
  const clock = new VirtualClock({ waitForIo: true });
  const maxFrame = o.maxFrame ?? 512;
  const link = { clock, retries: 100, requestTimeoutMs: 20 };
  const server = new EparaServer({ dataDir: join(dir, 'server'), maxFrame, window: o.window ?? 4, link, deploy: { chunkSize: 65_000, requestTimeoutMs: 200 } });
  let device: EparaDevice | undefined;
  try {
    await server.start();
    const { key } = server.provision({ id: 'uart-1', deviceClass: 'mcu' });
    const [a, b, ctl] = emulatedSerialPair({ ...line, clock, kind: 'uart' });
    const conn = server.attachStream(a)!;
    const count = counted(conn.link as unknown as FrameLink);
    device = (await clock.run(
      EparaDevice.connect({
        stream: b,
        id: 'uart-1',
        key,
        deviceClass: 'mcu',
        dataDir: join(dir, 'device'),
        maxFrame,
        rxWindow: o.window ?? 4,
        deployWindow: o.window ?? 4,
        link: { ...link },
        handshakeTimeoutMs: 60_000,
        connectTimeoutMs: 120_000,
        runtimes: { blob: async () => handlerRunner(() => []) },
      }),
    ))!;
    const deviceLink = (device as unknown as { link: FrameLink }).link;
    // seq is 16 bits and a megabyte takes more requests than that: unwrap it in arrival order
    // (frames arrive in the order they were sent), so a request run twice shows as a repeat.
    const executedSeqs: number[] = [];
    let wraps = 0;
    let last = -1;
    deviceLink.on('request', (frame) => {
      if (frame.message.type !== 'DEPLOY_CHUNK') return;
      const seq = frame.header.seq;
      if (last >= 0 && seq < last - 32_768) wraps++;
      last = seq;
      executedSeqs.push(wraps * 65_536 + seq);
    });
    const t0 = clock.now();
    const [record] = (await clock.run(server.deploy({ artifact: data, service: 'blob', version: '1', kind: 'blob', category: 'latency-single', to: ['uart-1'], timeoutMs: 600_000 }), 36_000_000))!;
    const virtualMs = clock.now() - t0;
    const active = await device.store.active('blob');
    const stored = active.current ? new Uint8Array(readFileSync(active.current.path)) : new Uint8Array(0);
    return { record: record!, stored, count, executedSeqs, server: conn.link as unknown as FrameLink, device: deviceLink, ctl, virtualMs };
  } finally {
    await clock.run(Promise.all([device?.close({ graceful: false }), server.close({ drainMs: 0 })])).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
