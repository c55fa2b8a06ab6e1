import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action, type CommandEnv } from '../command-env.js';
import { usageError } from '../cli-error.js';
import { requireServer } from '../server-client.js';
import { fromWire, parseInputs, toWire, valuesOf, type WireTensorJson } from '../tensor-json.js';
import { serverOptions, type ServerFlags } from '../flags.js';

interface InferFlags extends ServerFlags {
  input: string;
  deadline?: string;
  device?: string;
  repeat: string;
  flow?: boolean;
  fps?: string;
  frames?: string;
  maxBatch?: string;
}

function argmax(v: number[]): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
}

function preview(v: number[], max = 12): string {
  const f = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(4));
  return `[${v.slice(0, max).map(f).join(', ')}${v.length > max ? `, … ${v.length - max} more` : ''}]`;
}

export function inferCommand(ctx: CliContext, exit: ExitState): Command {
  return serverOptions(
    new Command('infer')
      .description('send one inference request through the server and print the outputs and timing')
      .argument('<service>', 'service name (as deployed)')
      .requiredOption('--input <file|json>', 'input tensor(s): JSON text or a .json file (see below)')
      .option('--deadline <ms>', 'deadline for the request (default: the server\'s request period)')
      .option('--device <id>', 'route to this device instead of letting the server choose')
      .option('--repeat <n>', 'send the request n times and report latency percentiles', '1')
      .option('--flow', 'stream the input as a frame flow (credits, batching, late frames dropped at the gateway) and report its FPS attainment')
      .option('--fps <n>', 'with --flow: target frames per second')
      .option('--frames <k>', 'with --flow: how many frames to send', '50')
      .option('--max-batch <n>', 'with --flow: most frames in one batched request (default 8)'),
  )
    .addHelpText(
      'after',
      `
Input forms:
  '[[0.1, 0.2, 0.3]]'                                         float32 tensor "input", shape [1,3]
  '{"name":"input","dtype":"float32","shape":[1,3],"values":[0.1,0.2,0.3]}'
  '{"name":"input","dtype":"uint8","shape":[4],"data":"AQIDBA=="}'   (raw little-endian, base64)
  a list of such objects for several inputs, or a path to a .json file holding any of these
Examples:
  epara infer classifier --input '[[0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1,1.1,1.2,1.3,1.4,1.5]]'
  epara infer classifier --input sample.json --deadline 200 --json
  epara infer segmentation --input frame.json --flow --fps 10 --frames 50   (--deadline: each frame's budget, default one frame interval)`,
    )
    .action(
      action(ctx, exit, async (env, service: string, flags: InferFlags) => {
        const out = env.out;
        const inputs = parseInputs(flags.input, env.ctx.cwd).map(toWire);
        const deadlineMs = flags.deadline !== undefined ? Number(flags.deadline) : undefined;
        if (deadlineMs !== undefined && (!Number.isInteger(deadlineMs) || deadlineMs < 1 || deadlineMs > 600_000)) throw usageError('deadline', `--deadline ${flags.deadline} must be 1..600000 ms`, 'e.g. --deadline 200');
        const repeat = Number(flags.repeat);
        if (!Number.isInteger(repeat) || repeat < 1 || repeat > 10_000) throw usageError('repeat', `--repeat ${flags.repeat} must be 1..10000`, 'e.g. --repeat 100');
        const client = requireServer(env, flags);
        if (flags.flow) return runFlow(env, client, service, inputs, deadlineMs, flags);
        if (flags.fps !== undefined) throw usageError('fps', '--fps needs --flow', `e.g. epara infer ${service} --input … --flow --fps 10 --frames 50`);
        const body = { service, inputs, ...(deadlineMs !== undefined ? { deadlineMs } : {}), ...(flags.device ? { deviceId: flags.device } : {}) };
        const rtts: number[] = [];
        type Answer = { outputs: WireTensorJson[]; deviceId: string; queueUs?: number; computeUs?: number; route?: RouteJson };
        let last: Answer | undefined;
        const byDevice = new Map<string, number>();
        for (let i = 0; i < repeat; i++) {
          const t0 = performance.now();
          last = await client.request<Answer>('POST', 'infer', body);
          rtts.push(performance.now() - t0);
          byDevice.set(last.deviceId, (byDevice.get(last.deviceId) ?? 0) + 1);
        }
        const r = last!;
        const outputs = r.outputs.map((w) => {
          const t = fromWire(w);
          const values = valuesOf(t);
          return { name: t.name, dtype: t.dtype, shape: t.shape, values, ...(t.dtype.startsWith('float') && values.length > 1 ? { argmax: argmax(values) } : {}) };
        });
        const sorted = [...rtts].sort((a, b) => a - b);
        const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
        const timing = {
          roundTripMs: Number(rtts[rtts.length - 1]!.toFixed(2)),
          queueMs: r.queueUs !== undefined ? r.queueUs / 1000 : undefined,
          computeMs: r.computeUs !== undefined ? r.computeUs / 1000 : undefined,
          ...(repeat > 1 ? { requests: repeat, p50Ms: Number(pct(50).toFixed(2)), p95Ms: Number(pct(95).toFixed(2)), p99Ms: Number(pct(99).toFixed(2)), devices: Object.fromEntries(byDevice) } : {}),
        };
        out.result({ service, deviceId: r.deviceId, outputs, timing, ...(r.route ? { route: r.route } : {}) }, () => {
          const lines = outputs.map((o) => `${out.c.bold(o.name)} ${o.dtype}${JSON.stringify(o.shape)} ${preview(o.values)}${o.argmax !== undefined ? `  argmax ${o.argmax}` : ''}`);
          lines.push(
            out.c.dim(
              `device ${r.deviceId} · round trip ${timing.roundTripMs.toFixed(1)} ms` +
                (timing.queueMs !== undefined ? ` · queue ${timing.queueMs.toFixed(2)} ms` : '') +
                (timing.computeMs !== undefined ? ` · compute ${timing.computeMs.toFixed(2)} ms` : ''),
            ),
          );
          if (r.route) lines.push(out.c.dim(routeText(r.route)));
          if (repeat > 1) lines.push(`${repeat} requests: p50 ${timing.p50Ms} ms, p95 ${timing.p95Ms} ms, p99 ${timing.p99Ms} ms; by device ${[...byDevice].map(([d, n]) => `${d}=${n}`).join(', ')}`);
          return lines.join('\n');
        });
      }),
    );
}

/** The scheduler's routing decision as the server answers it (scheduler-wiring.ts RouteDecision). */
interface RouteJson {
  device: string;
  policy: string;
  predictedMs: number;
  meetsDeadline: boolean;
  considered: Array<{ device: string; predictedMs: number }>;
}

/** `routed by epara: predicted finish 3.2 ms (pi-2 6.1 ms)`. */
export function routeText(r: RouteJson): string {
  const others = r.considered.filter((c) => c.device !== r.device).map((c) => `${c.device} ${c.predictedMs.toFixed(1)} ms`);
  return `routed by ${r.policy}: predicted finish ${r.predictedMs.toFixed(1)} ms${r.meetsDeadline ? '' : ' (past the deadline)'}${others.length ? ` (others: ${others.join(', ')})` : ''}`;
}

/** `--flow`: one POST /flows; the server paces the frames and answers the flow's counts. */
async function runFlow(env: CommandEnv, client: ReturnType<typeof requireServer>, service: string, inputs: WireTensorJson[], budgetMs: number | undefined, flags: InferFlags): Promise<void> {
  const fps = Number(flags.fps);
  if (flags.fps === undefined || !Number.isFinite(fps) || fps < 0.01 || fps > 10_000) throw usageError('fps', `--flow needs --fps between 0.01 and 10000${flags.fps !== undefined ? `, got ${flags.fps}` : ''}`, `e.g. epara infer ${service} --input … --flow --fps 10 --frames 50`);
  const frames = Number(flags.frames);
  if (!Number.isInteger(frames) || frames < 1 || frames > 100_000) throw usageError('frames', `--frames ${flags.frames} must be 1..100000`, 'e.g. --frames 50');
  const maxBatch = flags.maxBatch !== undefined ? Number(flags.maxBatch) : undefined;
  if (maxBatch !== undefined && (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 256)) throw usageError('max-batch', `--max-batch ${flags.maxBatch} must be 1..256`, 'e.g. --max-batch 8');
  const body = { service, inputs, fps, frames, ...(budgetMs !== undefined ? { budgetMs } : {}), ...(maxBatch !== undefined ? { maxBatch } : {}), ...(flags.device ? { deviceId: flags.device } : {}) };
  const r = await client.request<{ flowId: number; targetFps: number; budgetMs: number; offered: number; sent: number; droppedAtGateway: number; onTime: number; late: number; failed: number; batches: number; meanBatch: number; attainment: number; achievedFps: number; devices: Record<string, number>; errors: Record<string, number> }>('POST', 'flows', body);
  const out = env.out;
  out.result({ service, ...r }, () =>
    [
      `flow ${r.flowId} ${service}: ${r.offered} frames at ${r.targetFps} fps, budget ${r.budgetMs.toFixed(0)} ms`,
      `attainment ${(r.attainment * 100).toFixed(1)}% (${r.onTime} on time, ${r.late} late, ${r.droppedAtGateway} dropped at the gateway, ${r.failed} failed) · achieved ${r.achievedFps.toFixed(2)} fps of ${r.targetFps}`,
      out.c.dim(`${r.batches} batches, ${r.meanBatch.toFixed(2)} frames each · by device ${Object.entries(r.devices).map(([d, n]) => `${d}=${n}`).join(', ') || 'none'}${Object.keys(r.errors).length ? ` · errors ${Object.entries(r.errors).map(([c, n]) => `${c}=${n}`).join(', ')}` : ''}`),
    ].join('\n'),
  );
}
