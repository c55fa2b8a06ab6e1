import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { azureRequests, batchSpread, bucketedBatchSpread, burstFactor, DEFAULT_AZURE_MAPPING, meanWorkMs, parseAzureTrace } from '../../src/sim/azure-trace.js';
import { cameraFrames } from '../../src/sim/camera-flows.js';
import { Rng } from '../../src/sim/rng.js';
import { AZURE_CONV, DEFAULT_TRACE_PATH, loadAzureTrace, readWorkloadFile } from '../../src/sim/scenario.js';
import fc from 'fast-check';
import { WorkloadBuilder, formatWorkload, parseWorkload, sortedOrder } from '../../src/sim/workload.js';
import type { ServiceSpec } from '../../src/scheduler/types.js';

const chat: ServiceSpec = { name: 'chat-7b', category: 'latency-single', kind: 'llm', memoryMiB: 14_336, workMs: 2500, deadlineMs: 9000, demandRps: 1 };
const known = new Map([[chat.name, chat]]);

// The first five rows of AzureLLMInferenceTrace_conv.csv (Azure Public Dataset, CC BY 4.0), verbatim.
const AZURE_HEAD = `TIMESTAMP,ContextTokens,GeneratedTokens
2023-11-16 18:15:46.6805900,374,44
2023-11-16 18:15:50.9951690,396,109
2023-11-16 18:15:51.2224670,879,55
2023-11-16 18:15:51.3910170,91,16
2023-11-16 18:15:52.5732450,91,16`;

describe('workload file format', () => {
  it('parses rows, defaults, comments, a header and #service declarations, and sorts by time', () => {
    const text = `# epara-workload v1
#service {"name":"ocr","category":"latency-single","memoryMiB":300,"kind":"vision","workMs":8,"deadlineMs":200,"demandRps":5}
time_ms,service,size,deadline_ms,flow,ingress
20,ocr,,,,
0,chat-7b,1.5,9000,,3
10,chat-7b,,,7,`;
    const w = parseWorkload(text, known);
    expect(w.count).toBe(3);
    expect(Array.from(w.timeMs)).toEqual([0, 10, 20]);
    expect(w.services[w.service[2]!]).toBe('ocr');
    expect(w.size[0]).toBeCloseTo(1.5, 6);
    expect(w.deadlineMs[1]).toBe(9000); // the spec's deadline
    expect(w.deadlineMs[2]).toBe(200); // the declared service's deadline
    expect(w.flow[1]).toBe(7);
    expect(w.ingress[0]).toBe(3);
    expect(w.ingress[1]).toBe(-1);
    expect(w.declared.map((s) => s.name)).toEqual(['ocr']);
    // round trip
    const again = parseWorkload(formatWorkload(w), known);
    expect(Array.from(again.timeMs)).toEqual(Array.from(w.timeMs));
    expect(Array.from(again.flow)).toEqual(Array.from(w.flow));
  });

  it.each([
    ['0,nosuch', /unknown service "nosuch"/],
    ['-1,chat-7b', /time_ms must be a non-negative number/],
    ['x,chat-7b', /time_ms/],
    ['0,chat-7b,0', /size must be a positive number/],
    ['0,chat-7b,1,-5', /deadline_ms/],
    ['0,chat-7b,1,5,1.5', /flow must be a non-negative integer/],
    ['0,chat-7b,1,5,,a', /ingress/],
    ['0', /expected 2..6/],
    ['#service {nope', /not valid JSON/],
    ['#service {"name":"x"}', /not a valid service/],
    ['# only a comment', /no request rows/],
  ])('rejects %j with a typed error naming the line', (line, re) => {
    try {
      parseWorkload(line, known);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).code).toBe('sim.workload');
      expect((e as ConfigError).reason).toMatch(re);
      expect((e as ConfigError).reason).toMatch(/line \d+/);
    }
  });
});

describe('Azure trace reader and time scaling', () => {
  it('reads relative times and tokens, and rejects other files', () => {
    const t = parseAzureTrace(AZURE_HEAD);
    expect(t.rows.length).toBe(5);
    expect(t.rows[0]).toEqual({ tSec: 0, contextTokens: 374, generatedTokens: 44 });
    expect(t.rows[1]!.tSec).toBeCloseTo(4.314579, 5);
    expect(() => parseAzureTrace('a,b,c\n1,2,3')).toThrow(ConfigError);
    expect(() => parseAzureTrace(`${AZURE_HEAD}\ngarbage`)).toThrow(/line 7/);
  });

  it('compresses time by the load factor, sends a seeded quarter of the rows to the big model, sizes by tokens', () => {
    const t = parseAzureTrace(AZURE_HEAD);
    const m = { ...DEFAULT_AZURE_MAPPING, workMs: 1000 };
    const { requests } = azureRequests(t, m, { load: 2, durationSec: 2.9 }); // 5.8 s of trace → 4 rows
    expect(requests.map((r) => r.timeMs)).toEqual(t.rows.slice(0, 4).map((r) => (r.tSec / 2) * 1000));
    expect(requests[0]!.size).toBeCloseTo((374 * 0.04 + 44 * 12) / 1000, 9);
    // deadline = slack + sloScale × isolated time on the reference device (big model: ×1.8 work)
    for (const [i, r] of requests.entries()) {
      const w = t.rows[i]!.contextTokens * 0.04 + t.rows[i]!.generatedTokens * 12;
      expect(r.deadlineMs).toBeCloseTo(m.slackMs + m.sloScale * ((r.service === 'chat-13b' ? 1.8 : 1) * w + 1), 6);
    }
    const half = azureRequests(t, m, { load: 1, durationSec: 5 });
    expect(half.requests.length).toBe(4); // the row at 5.89 s is outside [0, 5)
  });

  it('--seed varies which rows go to the big model and where they enter; the split stays a quarter', () => {
    const rows = Array.from({ length: 4000 }, (_, i) => ({ tSec: i * 0.5, contextTokens: 100 + (i % 7), generatedTokens: 10 + (i % 5) }));
    const t = { rows, spanSec: rows[rows.length - 1]!.tSec };
    const a = azureRequests(t, DEFAULT_AZURE_MAPPING, { load: 1, durationSec: 2000, seed: 1 }).requests;
    const b = azureRequests(t, DEFAULT_AZURE_MAPPING, { load: 1, durationSec: 2000, seed: 2 }).requests;
    const again = azureRequests(t, DEFAULT_AZURE_MAPPING, { load: 1, durationSec: 2000, seed: 1 }).requests;
    expect(again).toEqual(a);
    const big = (rs: typeof a): number => rs.filter((r) => r.service === 'chat-13b').length / rs.length;
    expect(big(a)).toBeGreaterThan(0.22);
    expect(big(a)).toBeLessThan(0.28);
    const differ = a.filter((r, i) => r.service !== b[i]!.service).length;
    expect(differ).toBeGreaterThan(a.length * 0.2);
    expect(a.filter((r, i) => r.ingress !== b[i]!.ingress).length).toBeGreaterThan(a.length * 0.9);
  });

  it('a run longer than its trace window replays the window again, so the offered rate keeps growing with the load', () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({ tSec: i, contextTokens: 100, generatedTokens: 10 }));
    const t = { rows, spanSec: 99 };
    // Window [20, 40): 20 rows. Load 3 over 20 s needs 60 s of it: three passes.
    const { requests, note } = azureRequests(t, DEFAULT_AZURE_MAPPING, { load: 3, durationSec: 20, startSec: 20, endSec: 40 });
    expect(requests).toHaveLength(60);
    expect(requests[20]!.timeMs).toBeCloseTo((20 / 3) * 1000, 6);
    expect(note).toMatch(/replayed 3\.00 times/);
    expect(Math.max(...requests.map((r) => r.timeMs))).toBeLessThan(20_000);
  });

  it('burstFactor: arrivals per deadline-long window at p99 over the mean, from the trace in use', () => {
    const even = { rows: Array.from({ length: 1000 }, (_, i) => ({ tSec: i, contextTokens: 1, generatedTokens: 1 })), spanSec: 999 };
    expect(burstFactor(even, 10)).toBe(1);
    // The same 1,000 requests in 10 bursts of 100 at the start of every 100 s: a 10 s window holds 100 or 0.
    const bursty = { rows: Array.from({ length: 1000 }, (_, i) => ({ tSec: Math.floor(i / 100) * 100 + (i % 100) * 0.01, contextTokens: 1, generatedTokens: 1 })), spanSec: 901 };
    // 90 whole windows (the burst at 900 s starts the partial 91st, not counted): 900 requests, mean 10, p99 100.
    expect(burstFactor(bursty, 10)).toBeCloseTo(10, 9);
    expect(burstFactor(even, 500)).toBe(1); // fewer than 10 windows: no estimate
  });

  it('reads the 2024 format (UTC offset, quoted fields) and sorts rows out of order', () => {
    const t = parseAzureTrace('TIMESTAMP,ContextTokens,GeneratedTokens\n2024-05-10 00:00:01.5+00:00,10,2\n"2024-05-10 00:00:00.0000000+00:00","20","3"\n2024-05-10T01:00:00Z,5,1\n');
    expect(t.rows.map((r) => [r.tSec, r.contextTokens])).toEqual([[0, 20], [1.5, 10], [3600, 5]]);
    expect(t.spanSec).toBe(3600);
  });

  it.skipIf(!existsSync(DEFAULT_TRACE_PATH))('the documented trace constants match the real file', () => {
    const t = parseAzureTrace(readFileSync(DEFAULT_TRACE_PATH, 'utf8'));
    expect(t.rows.length).toBe(AZURE_CONV.rows);
    expect(t.spanSec).toBeCloseTo(AZURE_CONV.spanSec, 6);
    expect(meanWorkMs(t, DEFAULT_AZURE_MAPPING)).toBeCloseTo(AZURE_CONV.meanWorkMs, 6);
    expect(batchSpread(t, DEFAULT_AZURE_MAPPING, 16)).toBeCloseTo(AZURE_CONV.batchSpread16, 6);
    expect(bucketedBatchSpread(t, DEFAULT_AZURE_MAPPING, 16)).toBeCloseTo(AZURE_CONV.bucketedSpread16, 6);
    expect(batchSpread(t, DEFAULT_AZURE_MAPPING, 1)).toBeCloseTo(1, 9);
  });
});

describe('camera flows', () => {
  it('periodic frames per flow with seeded phase and bounded jitter; same seed, same frames', () => {
    const spec = { service: 'seg', flows: 3, fps: 10, budgetMs: 150, firstFlowId: 5 };
    const a = cameraFrames(spec, 1000, new Rng(9));
    const b = cameraFrames(spec, 1000, new Rng(9));
    expect(a).toEqual(b);
    for (let f = 5; f < 8; f++) {
      const ts = a.filter((x) => x.flow === f).map((x) => x.timeMs);
      expect(ts.length).toBeGreaterThanOrEqual(9);
      expect(ts.length).toBeLessThanOrEqual(10);
      for (let i = 1; i < ts.length; i++) {
        expect(ts[i]! - ts[i - 1]!).toBeGreaterThanOrEqual(100 - 10 - 1e-9);
        expect(ts[i]! - ts[i - 1]!).toBeLessThanOrEqual(100 + 10 + 1e-9);
      }
    }
    expect(a.every((x) => x.deadlineMs === 150 && x.timeMs >= 0 && x.timeMs < 1000)).toBe(true);
    expect(cameraFrames(spec, 1000, new Rng(10))).not.toEqual(a);
  });
});

describe('WorkloadBuilder', () => {
  it('sorts rows by time stably (equal times keep insertion order), like a stable comparison sort', () => {
    // Times drawn from a few values so ties are common; several sorted runs, as flows arrive.
    const runs = fc.array(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 40 }).map((r) => r.sort((a, b) => a - b)), { maxLength: 12 });
    fc.assert(
      fc.property(runs, fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 30 }), (sortedRuns, shuffled) => {
        const times = [...sortedRuns.flat(), ...shuffled];
        const order = sortedOrder(Float64Array.from(times), times.length);
        const expected = times.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t || a.i - b.i).map((x) => x.i);
        expect([...order]).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every column of a row together through the sort and grows past its first capacity', () => {
    const b = new WorkloadBuilder();
    const n = 5000;
    // Two interleaved flows, added flow by flow (two sorted runs), plus an out-of-order latency row.
    for (let f = 0; f < 2; f++) for (let k = 0; k < n / 2; k++) b.add({ timeMs: k * 10 + f * 5, service: f ? 'seg-hd' : 'seg-cam', size: 1 + f, deadlineMs: 100 * (f + 1), flow: f, ingress: k });
    b.add({ timeMs: 7, service: 'chat-7b', size: 2.5, deadlineMs: 9000, flow: -1, ingress: -1 });
    const w = b.build();
    expect(w.count).toBe(n + 1);
    for (let i = 1; i < w.count; i++) expect(w.timeMs[i]!).toBeGreaterThanOrEqual(w.timeMs[i - 1]!);
    expect([0, 1, 2, 3].map((i) => [w.timeMs[i], w.services[w.service[i]!], w.flow[i], w.ingress[i]])).toEqual([
      [0, 'seg-cam', 0, 0],
      [5, 'seg-hd', 1, 0],
      [7, 'chat-7b', -1, -1],
      [10, 'seg-cam', 0, 1],
    ]);
    const last = w.count - 1;
    expect([w.timeMs[last], w.services[w.service[last]!], w.size[last], w.deadlineMs[last], w.ingress[last]]).toEqual([(n / 2 - 1) * 10 + 5, 'seg-hd', 2, 200, n / 2 - 1]);
    expect(w.durationMs).toBe(w.timeMs[last]! + 1);
  });
});

describe('workload files', () => {
  it('an Azure trace over the size limit is a sim.trace error before it is read into memory; a good one under it parses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'epara-az-'));
    try {
      const f = join(dir, 'AzureLLMInferenceTrace_conv.csv');
      writeFileSync(f, 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:50.9951690,396,109\n');
      const size = statSync(f).size;
      let err: unknown;
      try {
        loadAzureTrace(f, size - 1);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect(err).toMatchObject({ code: 'sim.trace', field: 'azure-trace', details: { size, maxBytes: size - 1 } });
      expect((err as ConfigError).message).toMatch(/the Azure trace .* over the/);
      expect(loadAzureTrace(f, size).rows).toHaveLength(2);
      expect(() => loadAzureTrace(join(dir, 'missing.csv'))).toThrow(/cannot read the Azure trace .*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a file over the size limit is a sim.workload error with a way out, not a crash; a missing one names its errno', () => {
    const dir = mkdtempSync(join(tmpdir(), 'epara-wl-'));
    try {
      const f = join(dir, 'big.csv');
      writeFileSync(f, '0,chat-7b\n'.repeat(100));
      expect(readWorkloadFile(f, 2000)).toHaveLength(1000);
      let err: unknown;
      try {
        readWorkloadFile(f, 999);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect(err).toMatchObject({ code: 'sim.workload', details: { size: 1000, maxBytes: 999 } });
      expect((err as ConfigError).message).toMatch(/is 1000 bytes, over the 999 bytes limit/);
      expect((err as ConfigError).hint).toMatch(/every k-th row/);
      expect(() => readWorkloadFile(join(dir, 'missing.csv'))).toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses CRLF files and counts lines for errors the same as LF files', () => {
    const crlf = 'time_ms,service\r\n0,chat-7b\r\n\r\n5,chat-7b\r\nzz,chat-7b\r\n';
    expect(() => parseWorkload(crlf, known)).toThrow(/workload line 5/);
    const w = parseWorkload(crlf.replace('zz,chat-7b\r\n', ''), known);
    expect([...w.timeMs]).toEqual([0, 5]);
  });
});
