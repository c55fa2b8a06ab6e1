/**
 * Register-to-register logic depth of a Yosys `synth_xilinx` netlist (`write_json`), the timing
 * check that can run without Vivado: the number of LUT levels between two clocked elements is what
 * decides whether a path closes at 100 MHz on an Artix-7 -1 (a LUT level with its net costs about
 * 0.5-0.7 ns there; 6 levels leave margin in the 10 ns period, 10 do not).
 *
 * Start points: flip-flops, block RAM outputs, DSP48 outputs, the shift output of an SRL.
 * End points: every synchronous input of those (D, CE, reset, addresses, write data and enables).
 * Combinational cells: LUT1..6 and the read port of a distributed RAM or an SRL (one LUT level
 * each); CARRY4 and MUXF7/MUXF8 are not LUT levels but are counted and timed. Paths from or to
 * pads (IBUF/OBUF) are not register-to-register (the XDC makes them false paths).
 *
 * Also reported, from the same walk: an estimated delay with rough Artix-7 -1 figures (DS181-ish:
 * FF clock-to-out 0.46 ns, block RAM clock-to-out 2.45 ns without its output register and 0.88 ns
 * with it, a LUT 0.12 ns plus 0.45 ns of net, CARRY4 0.55 ns from a LUT and 0.11 ns along the
 * chain, MUXF 0.30 ns, setup 0.10 ns). No placement happens, so the delay is a ranking aid, not
 * a timing sign-off: Vivado's report_timing_summary is (hdl/basys3/README.md).
 *
 * Run: npx tsx scripts/hdl-lut-depth.ts netlist.json [top]
 */
import { readFileSync } from 'node:fs';

type Bit = number | '0' | '1' | 'x' | 'z';
interface Cell {
  type: string;
  parameters: Record<string, string | number>;
  attributes?: Record<string, string | number>;
  port_directions: Record<string, 'input' | 'output' | 'inout'>;
  connections: Record<string, Bit[]>;
}
interface Netlist {
  modules: Record<string, {
    cells: Record<string, Cell>;
    ports: Record<string, { direction: string; bits: Bit[] }>;
    netnames?: Record<string, { bits: Bit[]; hide_name?: number }>;
  }>;
}

export interface PathStep {
  cell: string;
  type: string;
  /** the signal this step drives, by its RTL name where synthesis kept one (`u_core.est[3]`) */
  net: string;
}
export interface DepthReport {
  /** the most LUT levels on any register-to-register path */
  lutLevels: number;
  /** that path, start point first */
  path: PathStep[];
  carry4: number;
  muxf: number;
  /** estimated delay of that path (ns) */
  delayNs: number;
  /** the path with the largest estimated delay (it may have fewer LUT levels) */
  slowest: { delayNs: number; lutLevels: number; path: PathStep[] };
  /** end points per LUT depth (index = levels) */
  histogram: number[];
  /** how many paths (end points) exceed the given limit, with their sources */
  over: (limit: number) => Array<{ levels: number; end: string; start: string }>;
}

const NET_NS = 0.45;
const LUT_NS = 0.12;
const T = { ff: 0.46, bram: 2.45, bramReg: 0.88, dsp: 0.5, carryIn: 0.55, carryChain: 0.11, muxf: 0.3, setup: 0.1 };

const isFF = (t: string) => /^FD[RSCP]E?$/.test(t);
const isLUT = (t: string) => /^LUT[1-6]$/.test(t);
const isBRAM = (t: string) => /^RAMB(18|36)E1$/.test(t);
const isLUTRAM = (t: string) => /^RAM(32|64|128|256)(M|X1[SD])$/.test(t);
const isSRL = (t: string) => /^SRL(16E|C32E)$/.test(t);

/** The address inputs that select a distributed RAM output (each read port has its own). */
function lutramReadPorts(type: string, out: string): (port: string) => boolean {
  if (/M$/.test(type)) {
    const port = out.slice(-1);               // RAM32M/RAM64M: DOA..DOD <- ADDRA..ADDRD
    return (p) => p === `ADDR${port}`;
  }
  if (out === 'DPO') return (p) => /^DPRA/.test(p);   // RAM*X1D: DPO <- DPRA, SPO <- A
  return (p) => /^A\d*$/.test(p);
}

interface Node {
  levels: number;
  delay: number;
  carry: number;
  muxf: number;
  /** the input bit this value came through (for the traceback) */
  from?: number;
  cell?: string;
  /** for the slowest-path walk */
  dLevels: number;
  dFrom?: number;
}

export function lutDepth(netlist: Netlist, top?: string): DepthReport {
  const name = top ?? Object.keys(netlist.modules).find((m) => Object.keys(netlist.modules).length === 1 || m.includes('top')) ?? Object.keys(netlist.modules)[0]!;
  const mod = netlist.modules[name];
  if (!mod) throw new Error(`module ${name} is not in the netlist`);
  const cells = mod.cells;
  const driver = new Map<number, { cell: string; port: string }>();
  for (const [cname, c] of Object.entries(cells)) {
    for (const [port, bits] of Object.entries(c.connections)) {
      if (c.port_directions[port] !== 'output') continue;
      for (const b of bits) if (typeof b === 'number') driver.set(b, { cell: cname, port });
    }
  }
  const memo = new Map<number, Node>();
  const START: Node = { levels: 0, delay: 0, carry: 0, muxf: 0, dLevels: 0 };
  const NONE: Node = { levels: -Infinity, delay: -Infinity, carry: 0, muxf: 0, dLevels: -Infinity };

  const inputsOf = (c: Cell, pick: (port: string) => boolean): number[] =>
    Object.entries(c.connections)
      .filter(([p]) => c.port_directions[p] === 'input' && pick(p))
      .flatMap(([, bits]) => bits.filter((b): b is number => typeof b === 'number'));

  // iterative DFS (the netlist has long carry chains and deep cones)
  const value = (bit0: number): Node => {
    const stack: number[] = [bit0];
    const open = new Set<number>();   // expanded, inputs still being evaluated
    while (stack.length > 0) {
      const bit = stack[stack.length - 1]!;
      if (memo.has(bit)) { stack.pop(); continue; }
      const d = driver.get(bit);
      if (!d) { memo.set(bit, NONE); stack.pop(); continue; }   // a module input or undriven
      const c = cells[d.cell]!;
      const t = c.type;
      if (isFF(t)) { memo.set(bit, { ...START, delay: T.ff, cell: d.cell }); stack.pop(); continue; }
      if (isBRAM(t)) {
        const reg = Number(c.parameters.DOA_REG ?? 0) || Number(c.parameters.DOB_REG ?? 0);
        memo.set(bit, { ...START, delay: reg ? T.bramReg : T.bram, cell: d.cell });
        stack.pop();
        continue;
      }
      if (t === 'DSP48E1' || (isSRL(t) && d.port === 'Q31')) { memo.set(bit, { ...START, delay: T.dsp, cell: d.cell }); stack.pop(); continue; }
      if (t === 'IBUF' || t === 'BUFG' || t === 'IBUFG') { memo.set(bit, NONE); stack.pop(); continue; }
      // combinational: the inputs that reach this output
      const ins = isLUTRAM(t) ? inputsOf(c, lutramReadPorts(t, d.port)) : isSRL(t) ? inputsOf(c, (p) => /^A/.test(p)) : inputsOf(c, () => true);
      const pending = ins.filter((b) => !memo.has(b));
      if (pending.length > 0) {
        if (open.has(bit)) throw new Error(`combinational loop through ${d.cell}`);
        open.add(bit);
        for (const b of pending) {
          if (open.has(b)) throw new Error(`combinational loop through ${d.cell}`);
          stack.push(b);
        }
        continue;
      }
      open.delete(bit);
      stack.pop();
      const isLut = isLUT(t) || isLUTRAM(t) || isSRL(t);
      const isMux = t === 'MUXF7' || t === 'MUXF8';
      let best: Node = NONE;
      let bestD: Node = NONE;
      let bestDelay = -Infinity;
      for (const b of ins) {
        const n = memo.get(b)!;
        if (n.levels > best.levels) best = { ...n, from: b };
        let add: number;
        if (t === 'CARRY4') add = driver.get(b)?.cell && cells[driver.get(b)!.cell]!.type === 'CARRY4' ? T.carryChain : T.carryIn + NET_NS;
        else if (isMux) add = T.muxf;
        else if (isLut) add = LUT_NS + NET_NS;
        else add = NET_NS;
        if (n.delay + add > bestDelay) { bestDelay = n.delay + add; bestD = { ...n, from: b }; }
      }
      memo.set(bit, {
        levels: best.levels + (isLut ? 1 : 0),
        delay: bestDelay,
        carry: best.carry + (t === 'CARRY4' ? 1 : 0),
        muxf: best.muxf + (isMux ? 1 : 0),
        from: best.from,
        cell: d.cell,
        dLevels: bestD.dLevels + (isLut ? 1 : 0),
        dFrom: bestD.from,
      });
    }
    return memo.get(bit0)!;
  };

  // end points: the synchronous inputs of clocked cells
  const ends: Array<{ bit: number; cell: string }> = [];
  const outName = (cell: string) => {
    const c = cells[cell]!;
    const out = Object.entries(c.connections).find(([p]) => c.port_directions[p] === 'output')?.[1]?.[0];
    return typeof out === 'number' ? bitName.get(out) : undefined;
  };
  for (const [cname, c] of Object.entries(cells)) {
    const t = c.type;
    let pick: ((p: string) => boolean) | undefined;
    if (isFF(t)) pick = (p) => p !== 'C';
    else if (isBRAM(t) || t === 'DSP48E1') pick = (p) => !/^CLK/.test(p);
    else if (isLUTRAM(t)) pick = (p) => /^(DI|D$|WE|ADDRD|A$|A[0-9])/.test(p) && p !== 'WCLK';
    else if (isSRL(t)) pick = (p) => p === 'D' || p === 'CE';
    if (!pick) continue;
    for (const b of inputsOf(c, pick)) ends.push({ bit: b, cell: cname });
  }
  // RTL names of the bits (flattening leaves every cell's src pointing at the instance line)
  const bitName = new Map<number, string>();
  for (const [n, info] of Object.entries(mod.netnames ?? {})) {
    if (info.hide_name) continue;
    info.bits.forEach((b, i) => {
      if (typeof b !== 'number') return;
      const label = info.bits.length > 1 ? `${n}[${i}]` : n;
      const had = bitName.get(b);
      if (!had || label.length < had.length) bitName.set(b, label);
    });
  }
  const netOf = (bit: number | undefined) => (bit === undefined ? '?' : bitName.get(bit) ?? `#${bit}`);
  const trace = (bit: number, useDelay: boolean): PathStep[] => {
    const steps: PathStep[] = [];
    let b: number | undefined = bit;
    while (b !== undefined) {
      const n = memo.get(b);
      if (!n || n.cell === undefined) break;
      steps.push({ cell: n.cell, type: cells[n.cell]!.type, net: netOf(b) });
      b = useDelay ? n.dFrom : n.from;
    }
    return steps.reverse();
  };

  const histogram: number[] = [];
  let worst: { bit: number; n: Node } | undefined;
  let slow: { bit: number; n: Node; delay: number } | undefined;
  const perEnd: Array<{ levels: number; end: string; bit: number }> = [];
  for (const e of ends) {
    const n = value(e.bit);
    if (n.levels === -Infinity) continue;
    histogram[n.levels] = (histogram[n.levels] ?? 0) + 1;
    perEnd.push({ levels: n.levels, end: e.cell, bit: e.bit });
    if (!worst || n.levels > worst.n.levels || (n.levels === worst.n.levels && n.delay > worst.n.delay)) worst = { bit: e.bit, n };
    const delay = n.delay + T.setup;
    if (!slow || delay > slow.delay) slow = { bit: e.bit, n, delay };
  }
  for (let i = 0; i < histogram.length; i++) histogram[i] ??= 0;
  if (!worst || !slow) throw new Error('no register-to-register path found: is this a synthesised netlist?');
  return {
    lutLevels: worst.n.levels,
    path: trace(worst.bit, false),
    carry4: worst.n.carry,
    muxf: worst.n.muxf,
    delayNs: worst.n.delay + T.setup,
    slowest: { delayNs: slow.delay, lutLevels: slow.n.dLevels, path: trace(slow.bit, true) },
    histogram,
    over: (limit) =>
      perEnd.filter((p) => p.levels > limit).sort((a, b) => b.levels - a.levels).map((p) => {
        const steps = trace(p.bit, false);
        return { levels: p.levels, end: `${cells[p.end]!.type} ${outName(p.end) ?? netOf(p.bit)}`, start: steps[0] ? `${steps[0].type} ${steps[0].net}` : '?' };
      }),
  };
}

export function formatReport(r: DepthReport, limit: number): string {
  const lines = [
    `LUT levels, register to register: ${r.lutLevels} (limit ${limit}) — ${r.carry4} CARRY4, ${r.muxf} MUXF on that path, ~${r.delayNs.toFixed(1)} ns estimated`,
    `  end points by LUT levels: ${r.histogram.map((n, i) => `${i}:${n}`).join(' ')}`,
    '  deepest path:',
    ...r.path.map((s) => `    ${s.type.padEnd(8)} ${s.net}`),
    `  slowest estimate: ~${r.slowest.delayNs.toFixed(1)} ns, ${r.slowest.lutLevels} LUT levels:`,
    ...r.slowest.path.map((s) => `    ${s.type.padEnd(8)} ${s.net}`),
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npx tsx scripts/hdl-lut-depth.ts netlist.json [top] [limit]');
    process.exit(2);
  }
  const limit = Number(process.argv[4] ?? 6);
  const r = lutDepth(JSON.parse(readFileSync(file, 'utf8')) as Netlist, process.argv[3]);
  console.log(formatReport(r, limit));
  const over = r.over(limit);
  const bySrc = new Map<string, number>();
  const strip = (x: string) => x.replace(/\[\d+\]/g, '');
  for (const o of over) {
    const k = `${String(o.levels).padStart(2)} ${strip(o.start)} -> ${strip(o.end)}`;
    bySrc.set(k, (bySrc.get(k) ?? 0) + 1);
  }
  if (over.length) console.log(`  ${over.length} end points above ${limit} (levels, start -> end register, bits):\n${[...bySrc].map(([k, n]) => `    ${k}  x${n}`).join('\n')}`);
  process.exit(r.lutLevels > limit ? 1 : 0);
}
