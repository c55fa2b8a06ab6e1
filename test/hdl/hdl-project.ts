/**
 * The HDL project as the tests see it: where the sources are, which files each
 * testbench needs, and which tools are installed. A test that needs a missing
 * tool is skipped with a message naming the tool, never passed silently.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const HDL_DIR = join(ROOT, 'hdl', 'basys3');

/** edge_core and everything under it, in dependency order. */
export const RTL_CORE = [
  'uart_rx.v', 'uart_tx.v', 'axis_fifo.v', 'cobs_decode.v', 'cobs_encode.v', 'crc32c.v',
  'sha256_core.v', 'hmac_sha256.v', 'int8_fc.v', 'edge_counters.v', 'edge_core.v',
];
export const RTL_TOP = [...RTL_CORE, 'reset_sync.v', 'seg7_display.v', 'basys3_top.v'];

const cache = new Map<string, boolean>();
export function haveTool(name: string): boolean {
  if (!cache.has(name)) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    cache.set(name, r.status === 0);
  }
  return cache.get(name)!;
}

/** Returns the missing tools; prints one line when any are missing so CI logs say why tests were skipped. */
export function missingTools(area: string, tools: string[]): string[] {
  const missing = tools.filter((t) => !haveTool(t));
  if (missing.length > 0) {
    console.warn(`[hdl] SKIPPED ${area}: ${missing.join(', ')} not installed (apt-get install -y iverilog verilator yosys z3 g++ make)`);
  }
  return missing;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? HDL_DIR, encoding: 'utf8', timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
