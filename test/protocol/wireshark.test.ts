/**
 * The Wireshark dissector (protocol/wireshark/epara.lua) against real traffic: a real EparaServer
 * and EparaDevice session over TCP on loopback, captured live by tshark (`-i lo` with a capture
 * filter on the session's port), then read back with the dissector. Every frame the two sides
 * exchanged (decoded independently, from a tap on the device's stream) must be named by the
 * dissector with the right message type, as many times as it was sent, with its CRC-32C checked:
 * "good" for every real frame, "bad" for the one the test corrupts. The same bytes, written as a
 * serial capture file (pcap, link type USER0), must dissect the same way. And the generated
 * tables in the dissector must match the catalogue (scripts/gen-wireshark.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { buildFrame, cobsEncode, FrameDecoder, tensorFrom } from '../../src/protocol/index.js';
import type { ByteStream } from '../../src/transport/index.js';
import { fixturesDir } from '../../scripts/gen-models.js';
import { DISSECTOR, generatedBlock, render } from '../../scripts/gen-wireshark.js';
import { pcapFile, type PcapRecord } from '../../scripts/serial-to-pcap.js';

const haveTshark = spawnSync('sh', ['-c', 'command -v tshark'], { encoding: 'utf8' }).status === 0;
if (!haveTshark) console.warn('[wireshark] SKIPPED the capture tests: tshark not installed (apt-get install -y tshark)');
const root = process.getuid?.() === 0;
if (haveTshark && !root) console.warn('[wireshark] SKIPPED the live capture: capturing on lo needs root (CAP_NET_RAW)');

describe('protocol/wireshark/epara.lua', () => {
  it('has the generated catalogue tables of the current src/protocol (else: npx tsx scripts/gen-wireshark.ts)', () => {
    const source = readFileSync(DISSECTOR, 'utf8');
    expect(source).toContain(generatedBlock());
    expect(render(source)).toBe(source);
  });
});

interface Chunk {
  dir: 'up' | 'down';
  timeUs: number;
  bytes: Uint8Array;
}

/** tshark's per-packet field values, flattened (a packet holds one or more frames). */
function tsharkFields(file: string, extra: string[], fields: string[]): string[][] {
  const r = spawnSync('tshark', ['-r', file, '-X', `lua_script:${DISSECTOR}`, ...extra, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/Lua: (Error|syntax)/);
  const cols: string[][] = fields.map(() => []);
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    line.split('\t').forEach((v, i) => { if (v) cols[i]!.push(...v.split(',')); });
  }
  return cols;
}

function counts(names: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const n of names) c[n] = (c[n] ?? 0) + 1;
  return c;
}

describe.skipIf(!haveTshark)('the dissector on a captured real session', () => {
  const dir = mkdtempSync(join(tmpdir(), 'epara-wireshark-'));
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    if (!process.env.EPARA_KEEP_CAPTURE) rmSync(dir, { recursive: true, force: true });
    else console.log(`[wireshark] kept ${dir}`);
  });
  const chunks: Chunk[] = [];
  let port = 0;
  const capture = join(dir, 'session.pcapng');
  const now = () => Math.round(performance.timeOrigin * 1000 + performance.now() * 1000);

  /** Runs the session (captured live when root); resolves when tshark has written the file. */
  async function session(live: boolean): Promise<void> {
    const server = new EparaServer({ dataDir: mkdtempSync(join(dir, 'srv-')), periods: { stateSyncMs: 200, heartbeatMs: 300 } });
    await server.start();
    cleanups.push(() => server.close({ drainMs: 0 }));
    port = (await server.listenTcp({ host: '127.0.0.1', port: 0 })).port;
    let tshark: ReturnType<typeof spawn> | undefined;
    let printed = '';   // tshark's one-line summaries of the packets it has captured
    if (live) {
      // -P -l: print each packet as it is captured, so the test knows when capturing has begun
      // ("Capturing on" comes before dumpcap sees packets): it opens empty TCP connections to the
      // server until tshark prints one, and only then starts the session
      tshark = spawn('tshark', ['-i', 'lo', '-f', `tcp port ${port}`, '-w', capture, '-P', '-l'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      let seen = false;
      tshark.stdout!.on('data', (d: Buffer) => {
        seen = true;
        printed += d.toString();
      });
      tshark.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => tshark!.once('exit', r));
      const t0 = Date.now();
      while (!seen) {
        if (Date.now() - t0 > 20_000 || tshark.exitCode !== null) throw new Error(`tshark did not start capturing: ${err}`);
        const probe = await connectTcp({ host: '127.0.0.1', port });
        await probe.close();
        await new Promise((r) => setTimeout(r, 100));
      }
      cleanups.push(async () => {
        if (tshark!.exitCode === null) { tshark!.kill('SIGINT'); await exited; }
      });
    }
    const { id, key } = server.provision({ id: 'ws-1', deviceClass: 'microcomputer' });
    let stream: ByteStream | undefined;
    const connector = async () => {
      const s = await connectTcp({ host: '127.0.0.1', port });
      s.on('data', (b: Uint8Array) => chunks.push({ dir: 'down', timeUs: now(), bytes: Uint8Array.from(b) }));
      const write = s.write.bind(s);
      // Recorded once the socket took the bytes: on a loaded machine the device's closing STATE
      // and BYE can come after its close began, are refused, and never reach the wire.
      s.write = async (b: Uint8Array) => {
        const bytes = Uint8Array.from(b);
        const timeUs = now();
        await write(b);
        chunks.push({ dir: 'up', timeUs, bytes });
      };
      return (stream = s);
    };
    const dev = await EparaDevice.connect({ connector, id, key, deviceClass: 'microcomputer', dataDir: mkdtempSync(join(dir, 'dev-')) });
    await server.deploy({ artifact: join(fixturesDir(), 'mlp-classifier.onnx'), service: 'cls', version: '1', kind: 'onnx', category: 'latency-single', to: [id], timeoutMs: 20_000 });
    while (server.candidates('cls').length === 0) await new Promise((r) => setTimeout(r, 50));
    await server.infer('cls', [tensorFrom('input', new Float32Array(16).fill(0.5), [1, 16])], { deadlineMs: 5000 });
    // frames the session would not show by itself: a PING (answered PONG), a frame of an
    // unknown type (answered ERROR msg.unknown_type) and one with a corrupted CRC (dropped)
    const raw = (type: number, seq: number, body: number[], corrupt = false) => {
      const frame = buildFrame(type, 0, seq, 0, Uint8Array.from(body));
      if (corrupt) frame[frame.length - 1]! ^= 0x40;
      const enc = cobsEncode(frame);
      const wire = new Uint8Array(enc.length + 1);
      wire.set(enc);
      return wire;
    };
    await stream!.write(raw(0x06, 0xf001, [0xa1, 0x00, 0x43, 1, 0, 2]));
    await stream!.write(raw(0x0c, 0xf002, [0xa0]));
    await stream!.write(raw(0x06, 0xf003, [0xa0], true));
    await new Promise((r) => setTimeout(r, 700)); // answers, a STATE and heartbeats
    // The probes' FINs are in `printed` long before this: only what tshark prints from here counts.
    const closeFrom = printed.length;
    await dev.close();
    if (tshark) {
      // stop only once tshark has seen the connection end both ways (its last frames are in)
      const t0 = Date.now();
      // (tshark lags behind on a loaded machine; counting the probes' FINs too ended the wait at
      // once, and the capture then missed the session's last STATE and BYE)
      const fins = () => (printed.slice(closeFrom).match(/FIN/g) ?? []).length;
      while (fins() < 2 && Date.now() - t0 < 40_000) await new Promise((r) => setTimeout(r, 50));
      expect(fins(), 'tshark saw the session close both ways within 40 s').toBeGreaterThanOrEqual(2);
      await new Promise((r) => setTimeout(r, 200));
    } else {
      await new Promise((r) => setTimeout(r, 200));
    }
    if (tshark) {
      const exited = new Promise<void>((resolve) => tshark!.once('exit', () => resolve()));
      tshark.kill('SIGINT');
      await exited;
    }
  }

  /** What the two sides exchanged, decoded with the project's own codec. */
  function exchanged() {
    const dec = { up: new FrameDecoder({ maxFrame: 65535 }), down: new FrameDecoder({ maxFrame: 65535 }) };
    const names: string[] = [];
    for (const c of chunks) {
      // a frame the codec rejects (the unknown type, the bad CRC) is counted by the caller
      for (const f of dec[c.dir].push(c.bytes)) if (!(f instanceof Error)) names.push(f.message.type);
    }
    return { names };
  }

  it.skipIf(!root)('names every message type of a live capture on lo and checks every CRC', async () => {
    await session(true);
    const { names } = exchanged();
    const [types, crcs, errors] = tsharkFields(capture, ['-d', `tcp.port==${port},epara`], ['epara.type_name', 'epara.crc.status', 'epara.error.name']);
    console.log(`[wireshark] live capture on lo, port ${port}: ${types!.length} frames dissected; ${JSON.stringify(counts(types!))}`);
    // every frame the codec decoded, by type and count, plus the two it refused: the unknown type and the bad CRC
    expect(counts(types!)).toEqual(counts([...names, 'type 0x0c', 'PING']));
    // what this session always contains (heartbeats depend on timing; the counts above cover them)
    for (const t of ['HELLO', 'CHALLENGE', 'AUTH', 'WELCOME', 'STATE', 'PING', 'PONG', 'ERROR', 'DEPLOY_OFFER', 'DEPLOY_ACCEPT', 'DEPLOY_CHUNK', 'DEPLOY_CHUNK_ACK', 'DEPLOY_COMMIT', 'DEPLOY_RESULT', 'INFER_REQUEST', 'INFER_RESPONSE']) {
      expect(types, t).toContain(t);
    }
    expect(counts(crcs!)).toEqual({ good: types!.length - 1, bad: 1 });
    expect(errors).toContain('msg.unknown_type');
  }, 120_000);

  it('dissects the same session written as a serial capture file (pcap, link type USER0)', async () => {
    if (chunks.length === 0) await session(false);
    // one record per wire frame, in the order they crossed the line (scripts/serial-to-pcap.ts)
    const pending = { up: [] as number[], down: [] as number[] };
    const records: PcapRecord[] = [];
    for (const c of chunks) {
      for (const b of c.bytes) {
        pending[c.dir].push(b);
        if (b === 0) {
          records.push({ timeUs: c.timeUs, data: Uint8Array.from(pending[c.dir]) });
          pending[c.dir] = [];
        }
      }
    }
    const file = join(dir, 'serial.pcap');
    writeFileSync(file, pcapFile(records));
    const { names } = exchanged();
    const [types, crcs] = tsharkFields(file, [], ['epara.type_name', 'epara.crc.status']);
    expect(counts(types!)).toEqual(counts([...names, 'type 0x0c', 'PING']));
    expect(counts(crcs!)).toEqual({ good: types!.length - 1, bad: 1 });
  }, 120_000);
});
