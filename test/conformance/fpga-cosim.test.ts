/**
 * The kit against the FPGA endpoint: the Verilator-built edge_core, its UART bridged to a kernel
 * pty (hdl/basys3/sim/edge_bridge.cpp), reached with the serial target exactly as a Basys 3 on
 * /dev/ttyUSB1 or an HC-05 on /dev/rfcomm0 would be.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, runConformance, VERSION_2_ONLY as V2_ONLY, type ConformReport } from '../../src/conformance/index.js';
import { missingTools } from '../hdl/hdl-project.js';
import { buildCosim, CosimProcess, SIM_DEVICE_ID, SIM_KEY } from '../hdl/cosim-driver.js';

const missing = missingTools('co-simulation', ['verilator', 'g++', 'make']);

/**
 * What the RTL still gets wrong, by check id. The five deviations of issue 23 §2 are fixed
 * (7a5f36a); the two the kit found afterwards are fixed too (issue 23, rtl): edge_core answers a
 * CHALLENGE version outside [1, 1] with BYE 121 and starts over (SPEC §8 rule 4), and ignores a
 * typed array under an unknown key with the key (spec 1.1 §4.1), so the HEARTBEAT of accept.json
 * gets 114 like a plain one. A new deviation found here goes in this list with its reason.
 */
const KNOWN_FPGA_DEVIATIONS: string[] = [];

describe.skipIf(missing.length > 0)('epara conform against the FPGA co-simulation over a pty', () => {
  let proc: CosimProcess;
  let rep: ConformReport;
  beforeAll(async () => {
    // 16 clocks/bit, 200 clocks per on-chip ms; HELLO retried every 10 on-chip s (~1 s idle)
    proc = new CosimProcess(buildCosim(16, 200, 'conform', 10000));
    const path = await proc.ready();
    const links = await openTarget({ kind: 'serial', path, baudRate: 115200 });
    try {
      rep = await runConformance(links, {
        id: SIM_DEVICE_ID, key: SIM_KEY, deviceClass: 'fpga',
        timings: { answerMs: 2000, helloMs: 20_000, graceMs: 100, heartbeatMs: 1000, stateMs: 1000, leaseMs: 30_000 },
      });
    } finally {
      await links.close();
    }
    console.log(`[conform] framing.device-frames: ${rep.results.find((r) => r.id === 'framing.device-frames')?.detail}`);
    for (const r of rep.results) for (const w of r.warnings) console.log(`[conform] warning ${r.id}: ${w}`);
    console.log(`[conform] edge_core co-sim: ${rep.summary.passed} passed, ${rep.summary.failed} failed, ${rep.summary.skipped} skipped, ${rep.summary.warnings} warnings in ${rep.durationMs} ms`);
  }, 240_000);
  afterAll(async () => {
    await proc?.stop();
  });

  it('fails exactly the known deviations, and passes every other check', () => {
    const failedIds = rep.results.filter((r) => r.status === 'fail').map((r) => r.id);
    expect(failedIds, rep.results.filter((r) => r.status === 'fail').map((r) => `${r.id}: ${r.detail}`).join('\n')).toEqual(KNOWN_FPGA_DEVIATIONS);
  });

  it('checks the five issue-23 deviations and finds them fixed', () => {
    const byId = new Map(rep.results.map((r) => [r.id, r]));
    for (const id of ['vector.unknown-type-0x0c', 'vector.unknown-type-0xff', 'infer.shape-mismatch', 'state.served-since-last', 'vector.nondet-tag-1', 'bye.malformed-ignored']) {
      expect(byId.get(id)?.status, `${id}: ${byId.get(id)?.detail}`).toBe('pass');
    }
  });

  it('skips only what the FPGA cannot do, and says why', () => {
    const skipped = rep.results.filter((r) => r.status === 'skip');
    expect(skipped.map((r) => r.id).sort()).toEqual(['deploy.resume-after-restart', ...V2_ONLY].sort());
    expect(skipped.find((r) => r.id === 'deploy.resume-after-restart')!.detail).toMatch(/restart/);
    for (const r of skipped.filter((x) => V2_ONLY.includes(x.id))) expect(r.detail).toMatch(/speaks only protocol version 1\.\.1/);
  });

  it('negotiates version 1 (edge_core speaks [1, 1]) and sends no version-2 key in it', () => {
    const byId = new Map(rep.results.map((r) => [r.id, r]));
    expect(byId.get('version.negotiated')?.status).toBe('pass');
    expect(byId.get('version.negotiated')?.detail).toMatch(/HELLO proto 1\.\.1, kit 1\.\.2: CHALLENGE version 1/);
    expect(byId.get('version.v1-session')?.status, byId.get('version.v1-session')?.detail).toBe('pass');
  });
});
