/**
 * Test-side helpers for the edge_core co-simulation: builds the Verilator model
 * (hdl/basys3/sim/edge_bridge.cpp), starts it, and parses the cycle events the
 * harness prints on stderr. The FPGA is reached through its pseudo-terminal with
 * the project's own serial transport, the same path as /dev/rfcomm0.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildFrame, cobsEncode, FrameDecoder, type Frame } from '../../src/protocol/index.js';
import type { ByteStream } from '../../src/transport/index.js';
import { HDL_DIR, RTL_CORE } from './hdl-project.js';

/** The simulation-only device key baked into edge_core's KEY parameter default. */
export const SIM_KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
export const SIM_DEVICE_ID = 'basys3-01';

export interface CosimBuild {
  /** clocks per UART bit */
  cpb: number;
  /** clocks per on-chip millisecond */
  clksPerMs: number;
  binary: string;
}

/**
 * `tag` keeps test files that run in parallel workers out of each other's build directory.
 * `from` builds another copy of the sources (an older RTL read from git) into another directory.
 * `helloRetryMs` x `clksPerMs` should be >= ~1 M cycles: the harness runs ~2 M cycles/s
 * while idle, and the host must answer a HELLO before the device retries it.
 */
export function buildCosim(cpb: number, clksPerMs: number, tag: string, helloRetryMs: number, from: { hdlDir: string; objDir: string } = { hdlDir: HDL_DIR, objDir: HDL_DIR }): CosimBuild {
  // parameters are baked into the binary, so they name the build directory
  const mdir = join(from.objDir, `obj_cosim_${tag}_${cpb}_${clksPerMs}_${helloRetryMs}`);
  const binary = join(mdir, 'Vedge_core');
  const sources = [...RTL_CORE.map((f) => join(from.hdlDir, 'rtl', f)), join(from.hdlDir, 'sim', 'edge_bridge.cpp')];
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (!existsSync(binary) || statSync(binary).mtimeMs < newest) {
    mkdirSync(mdir, { recursive: true });
    // CLK_HZ/BAUD chosen so that CLK_HZ/BAUD == cpb exactly
    const r = spawnSync(
      'verilator',
      [
        '--cc', '--exe', '--build', '-j', '2', '-O2', '-Wall', '--top-module', 'edge_core',
        `-I${join(from.hdlDir, 'rtl')}`, `-GCLK_HZ=${cpb * 100000}`, '-GBAUD=100000',
        `-GCLKS_PER_MS=${clksPerMs}`, `-GHELLO_RETRY_MS=${helloRetryMs}`,
        '-CFLAGS', `-DCPB=${cpb} -O1`, '--Mdir', mdir, ...sources, '-o', 'Vedge_core',
      ],
      { encoding: 'utf8', timeout: 600_000 },
    );
    if (r.status !== 0) throw new Error(`verilator build failed:\n${r.stdout}\n${r.stderr}`);
  }
  return { cpb, clksPerMs, binary };
}

export interface CosimEvent {
  kind: 'rxf' | 'txf' | 'registered' | 'unregistered';
  start: number;
  end: number;
  bytes: number;
}

export class CosimProcess {
  readonly events: CosimEvent[] = [];
  private proc: ChildProcess;
  private waiters: Array<() => void> = [];
  ptyPath = '';

  constructor(readonly build: CosimBuild) {
    this.proc = spawn(build.binary, [], { stdio: ['ignore', 'ignore', 'pipe'] });
    let buf = '';
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^PTY (\S+)/.exec(line);
        if (m) this.ptyPath = m[1]!;
        const ev = /^EV (rxf|txf) (\d+) (\d+) (\d+)/.exec(line);
        if (ev) this.events.push({ kind: ev[1] as 'rxf' | 'txf', start: +ev[2]!, end: +ev[3]!, bytes: +ev[4]! });
        const st = /^EV (registered|unregistered) (\d+)/.exec(line);
        if (st) this.events.push({ kind: st[1] as 'registered', start: +st[2]!, end: +st[2]!, bytes: 0 });
        for (const w of this.waiters.splice(0)) w();
      }
    });
  }

  async ready(timeoutMs = 10_000): Promise<string> {
    const t0 = Date.now();
    while (!this.ptyPath) {
      if (Date.now() - t0 > timeoutMs) throw new Error('co-simulation did not report its pty');
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 50); });
    }
    return this.ptyPath;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    await new Promise<void>((r) => {
      this.proc.once('exit', () => r());
      this.proc.kill('SIGTERM');
    });
  }
}

/** SPEC §5.3 / §5.4 MACs. */
export function authMac(key: Buffer, serverNonce: Uint8Array, deviceNonce: Uint8Array, deviceId: string): Uint8Array {
  return createHmac('sha256', key).update('epara-auth-v1').update(serverNonce).update(deviceNonce).update(deviceId).digest();
}
export function serverMac(key: Buffer, deviceNonce: Uint8Array, serverNonce: Uint8Array, deviceId: string): Uint8Array {
  return createHmac('sha256', key).update('epara-srv-v1').update(deviceNonce).update(serverNonce).update(deviceId).digest();
}

/**
 * Every frame the device sends, decoded beside the FrameLink that owns the stream: answers to
 * raw frames the test wrote itself (which FrameLink drops as late responses) are found here.
 */
export class FrameTap {
  readonly frames: Frame[] = [];
  private decoder = new FrameDecoder({ maxFrame: 512 });

  constructor(stream: ByteStream) {
    stream.on('data', (chunk: Uint8Array) => {
      for (const f of this.decoder.push(chunk)) if (!(f instanceof Error)) this.frames.push(f);
    });
  }

  /** Frames from index `from` on that answer (RSP set) the request with this seq. */
  answersTo(seq: number, from = 0): Frame[] {
    return this.frames.slice(from).filter((f) => (f.header.flags & 1) === 1 && f.header.corr === seq);
  }
}

/** A frame's wire bytes (header, body, CRC-32C, COBS, delimiter) for raw, possibly invalid, bodies. */
export function rawWire(type: number, seq: number, body: Uint8Array, flags = 0): Uint8Array {
  const enc = cobsEncode(buildFrame(type, flags, seq, 0, body));
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}
