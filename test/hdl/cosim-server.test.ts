/**
 * Co-simulation with the real server: EparaServer (src/server-adapter) provisions the
 * simulated Basys 3, opens its pseudo-terminal with openSerial (the /dev/rfcomm0 path),
 * authenticates it (HMAC-SHA256 in hardware), deploys int8-fc weights (SHA-256 checked in
 * hardware) and runs inference, checked against the TypeScript behavioural model.
 * Bulk at 16 clocks/bit; one smoke test at the real 115200 divider (868 clocks/bit) and one
 * at the HC-05's default data-mode rate, 9600 baud (10,417 clocks/bit).
 * Cycle figures (registration, inference latency) are computed from the harness's frame
 * events and printed: measured at 115200 and at 9600, and derived for the other rate from
 * the line bytes plus the FPGA's own work, which is what makes the two comparable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EparaServer, type EparaServerOptions } from '../../src/server-adapter/index.js';
import { openSerial } from '../../src/transport/index.js';
import { tensorFrom, tensorValues } from '../../src/protocol/index.js';
import { Int8FcModel, int8FcArtifact } from '../../src/conformance/int8-fc-model.js';
import { missingTools } from './hdl-project.js';
import { buildCosim, CosimProcess, SIM_DEVICE_ID, SIM_KEY, type CosimEvent } from './cosim-driver.js';

const missing = missingTools('server co-simulation', ['verilator', 'g++', 'make']);
const CPB_9600 = 10417;
const CPB_115200 = 868;

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
}

/**
 * Device-side cost of one exchange: request bytes in, gap (FPGA work), response bytes out.
 * The FPGA has a byte once it samples the middle of its stop bit, half a bit before the
 * harness's rxf end, so the gap is measured from there: it is then independent of the baud rate.
 */
interface Exchange { reqBytes: number; gap: number; rspBytes: number; measured: number }
function exchangeAfter(events: CosimEvent[], rx: CosimEvent, cpb: number): Exchange {
  const have = rx.end - Math.floor(cpb / 2);
  const rsp = events.find((e) => e.kind === 'txf' && e.start > have)!;
  return { reqBytes: rx.bytes, gap: rsp.start - have, rspBytes: rsp.bytes, measured: rsp.end - rx.start };
}
const atCpb = (x: Exchange, cpb: number) => (x.reqBytes + x.rspBytes) * 10 * cpb - Math.floor(cpb / 2) + x.gap;

/** Registration = HELLO out + CHALLENGE in + FPGA work + AUTH out + WELCOME in + check; host think time excluded. */
function registration(events: CosimEvent[], cpb: number) {
  const reg = events.find((e) => e.kind === 'registered');
  const rxs = reg ? events.filter((e) => e.kind === 'rxf' && e.end < reg.end) : [];
  const welcome = rxs[rxs.length - 1];
  const challenge = rxs[rxs.length - 2];
  const hello = challenge && [...events].reverse().find((e) => e.kind === 'txf' && e.start < challenge.start);
  if (!reg || !welcome || !challenge || !hello) throw new Error(`no HELLO, CHALLENGE, WELCOME, registered sequence in ${JSON.stringify(events.slice(0, 16))}`);
  const auth = exchangeAfter(events, challenge, cpb);
  const bytes = hello.bytes + challenge.bytes + auth.rspBytes + welcome.bytes;
  const gaps = auth.gap + (reg.end - (welcome.end - Math.floor(cpb / 2)));
  return { bytes, gaps, at: (c: number) => bytes * 10 * c - 2 * Math.floor(c / 2) + gaps };
}

async function serverSession(
  cpb: number, clksPerMs: number, helloRetryMs: number,
  slow?: { wallBaud: number; options: Partial<EparaServerOptions> },
) {
  const proc = new CosimProcess(buildCosim(cpb, clksPerMs, 'server', helloRetryMs));
  const path = await proc.ready();
  const dataDir = mkdtempSync(join(tmpdir(), 'epara-cosim-srv-'));
  const server = new EparaServer({ dataDir, periods: { heartbeatMs: 5000 }, ...slow?.options });
  await server.start();
  if (process.env.EPARA_COSIM_DEBUG) server.on('audit', (e) => console.log('[audit]', e.event, (e as { detail?: string }).detail ?? ''));
  server.provision({ id: SIM_DEVICE_ID, deviceClass: 'fpga', key: SIM_KEY.toString('hex') });
  const registered = new Promise<unknown>((r) => server.once('device-registered', (info) => r(info)));
  server.attachStream(await openSerial({ path, baudRate: slow?.wallBaud ?? 115200 }));
  return {
    proc, server, registered,
    async close() {
      await server.close();
      await proc.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function deployAndInfer(server: EparaServer, seed: number, n: number) {
  const rnd = lcg(seed);
  const s8 = () => rnd() - 128;
  const artifact = int8FcArtifact(Int8Array.from({ length: 64 }, s8), Int32Array.from({ length: 4 }, () => (rnd() << 6) - 8000));
  const model = new Int8FcModel(artifact);
  const records = await server.deploy({
    artifact, service: 'fc16', version: `w${seed}`, kind: 'int8-fc-weights', category: 'latency-single', to: [SIM_DEVICE_ID], timeoutMs: 60_000,
  });
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ deviceId: SIM_DEVICE_ID, state: 'ready', activeVersion: `w${seed}` });
  for (let k = 0; k < n; k++) {
    const x = Int8Array.from({ length: 16 }, s8);
    const r = await server.infer('fc16', [tensorFrom('x', x, [16])], { deadlineMs: 60_000 });
    const want = model.infer(x);
    expect(r.deviceId).toBe(SIM_DEVICE_ID);
    expect(Array.from(tensorValues(r.outputs.find((t) => t.name === 'scores')!) as Int32Array)).toEqual(Array.from(want.scores));
    expect(Array.from(tensorValues(r.outputs.find((t) => t.name === 'class')!) as Uint8Array)).toEqual([want.classIndex]);
  }
}

/**
 * Runs one more inference and returns its exchange. Heartbeats (HEARTBEAT out, ACK in, ~20
 * bytes) can interleave, so the request is the first large frame in after the call started
 * (INFER_REQUEST is ~60 bytes) and the response the first large frame out after it.
 */
async function timedInfer(s: { server: EparaServer; proc: CosimProcess }, cpb: number): Promise<Exchange> {
  const from = s.proc.events.length;
  await s.server.infer('fc16', [tensorFrom('x', new Int8Array(16).fill(3), [16])], { deadlineMs: 60_000 });
  await new Promise((r) => setTimeout(r, 50));
  const evs = s.proc.events.slice(from);
  const rx = evs.find((e) => e.kind === 'rxf' && e.bytes >= 40)!;
  const have = rx.end - Math.floor(cpb / 2);
  const rsp = evs.find((e) => e.kind === 'txf' && e.start > have && e.bytes >= 40)!;
  return { reqBytes: rx.bytes, gap: rsp.start - have, rspBytes: rsp.bytes, measured: rsp.end - rx.start };
}

type Session = Awaited<ReturnType<typeof serverSession>>;

const ms = (cycles: number) => `${(cycles / 1e5).toFixed(2)} ms`;

/**
 * What each real-divider test does: registration (already under way), a deployment with
 * `inferences` checked inferences, then one timed INFER. Prints the measured figures and checks
 * that the exchange is exactly line time plus FPGA work, which is what lets a figure measured at
 * one rate be derived for another.
 */
async function measureAtRealRate(s: Session, cpb: number, label: string, seed: number, inferences: number) {
  await s.registered;
  await deployAndInfer(s.server, seed, inferences);
  const reg = registration(s.proc.events, cpb);
  const inf = await timedInfer(s, cpb);
  console.log(
    `[cosim] measured at ${label}: registration ${reg.at(cpb)} cycles = ${ms(reg.at(cpb))} at 100 MHz ` +
      `(${reg.bytes} bytes on the line, FPGA work ${reg.gaps} cycles); INFER ${inf.measured} cycles = ${ms(inf.measured)} ` +
      `(${inf.reqBytes}+${inf.rspBytes} bytes, FPGA work ${inf.gap} cycles)`,
  );
  expect(inf.gap).toBeGreaterThan(0);
  expect(Math.abs(inf.measured - atCpb(inf, cpb))).toBeLessThanOrEqual(2);
  return { reg, inf };
}

describe.skipIf(missing.length > 0)('EparaServer manages the simulated Basys 3 over a pty', () => {
  let s: Session;
  beforeAll(async () => {
    s = await serverSession(16, 200, 5000);
  }, 300_000);
  afterAll(async () => s?.close());

  it('registers the FPGA (HMAC-SHA256 in hardware), deploys weights and infers bit-exactly (16 clocks/bit)', async () => {
    const info = await s.registered;
    expect(info).toMatchObject({ id: SIM_DEVICE_ID, deviceClass: 'fpga', caps: { runtimes: ['int8-fc'], formats: ['int8-fc-weights'] } });
    await deployAndInfer(s.server, 0x5eed, 10);
    // a second deployment replaces the weights (bank switch) and inference follows it
    await deployAndInfer(s.server, 0xbeef, 4);
    const reg = registration(s.proc.events, 16);
    const inf = await timedInfer(s, 16);
    console.log(
      `[cosim] 16 clocks/bit: registration ${reg.at(16)} cycles (${reg.bytes} bytes on the line, ${reg.gaps} cycles of FPGA work); ` +
        `INFER ${inf.measured} cycles request-start -> response-end (${inf.reqBytes}+${inf.rspBytes} bytes, ${inf.gap} cycles of FPGA work)`,
    );
    console.log(
      `[cosim] derived: registration ${reg.at(CPB_115200)} cycles at 115200 (${ms(reg.at(CPB_115200))}), ` +
        `${reg.at(CPB_9600)} at 9600 (${ms(reg.at(CPB_9600))}); INFER ${atCpb(inf, CPB_115200)} at 115200 ` +
        `(${ms(atCpb(inf, CPB_115200))}), ${atCpb(inf, CPB_9600)} at 9600 (${ms(atCpb(inf, CPB_9600))})`,
    );
    expect(reg.gaps).toBeGreaterThan(0);
  }, 300_000);
});

describe.skipIf(missing.length > 0)('smoke test at the real 115200 divider (868 clocks/bit)', () => {
  let s: Session;
  beforeAll(async () => {
    s = await serverSession(CPB_115200, 10_000, 300);
  }, 600_000);
  afterAll(async () => s?.close());

  it('registers, deploys and infers at 868 clocks per bit', async () => {
    const { reg, inf } = await measureAtRealRate(s, CPB_115200, '115200', 0x1152, 2);
    console.log(`[cosim] derived for 9600: registration ${reg.at(CPB_9600)} cycles (${ms(reg.at(CPB_9600))}), INFER ${atCpb(inf, CPB_9600)} cycles (${ms(atCpb(inf, CPB_9600))})`);
  }, 600_000);
});

describe.skipIf(missing.length > 0)('measured at the HC-05 default, 9600 baud (10,417 clocks per bit)', () => {
  let s: Session;
  beforeAll(async () => {
    // The harness simulates ~2 M clocks per wall-clock second, so a 9600-baud line runs at
    // ~200 baud of wall time. The server is told the line's wall-clock rate (the pty ignores
    // it; the link scales its per-request timeouts by it, as it does on a real slow line) and
    // given handshake and deployment timeouts to match. On-chip time is scaled the same way
    // (2,000 clocks per on-chip ms), so the device's heartbeats keep wall-clock pace with the
    // server's liveness check; no timer is on the path of the exchanges measured here. HELLO retry must outlast HELLO + CHALLENGE on the
    // line (~16 M clocks) plus the host's replies, and it also bounds the whole handshake
    // (~34 M clocks): 30,000 scaled ms = 60 M clocks. The first HELLO goes out before the
    // server has the pty open and is lost; the first retry is answered.
    s = await serverSession(CPB_9600, 2_000, 30_000, {
      wallBaud: 110,
      options: {
        authTimeoutMs: 300_000,
        // a HEARTBEAT or STATE (2-4 M clocks on this line) queued ahead of a response would be
        // counted as FPGA work: 120 scaled s between them keeps them out of the measured exchanges
        periods: { heartbeatMs: 120_000, stateSyncMs: 120_000 },
        deploy: { requestTimeoutMs: 300_000, retryMs: 300_000, resultTimeoutMs: 600_000 },
        link: { requestTimeoutMs: 300_000 },
      },
    });
  }, 600_000);
  afterAll(async () => s?.close());

  it('registers, deploys and infers at 10,417 clocks per bit', async () => {
    await measureAtRealRate(s, CPB_9600, '9600', 0x9600, 1);
  }, 600_000);
});
