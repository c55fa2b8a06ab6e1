/**
 * How an emulated device of the live testbed spends time on a request: the simulator's model of
 * the device (src/sim/device-profiles.ts) applied to the real ONNX run, so both sides of the
 * live-vs-simulated comparison run the same service-time model.
 *
 *  - one batch of n rows lasts t(n) for its largest row: overhead + work · size / speed ·
 *    (1 + batchBeta · (n − 1)), as the simulator's request-level batch (it holds its slot until its
 *    longest job is done);
 *  - a row's size factor (its tokens over the trace mean, the simulator's `size`) rides in the
 *    first element of the row's input (the load generator writes it; 1 for frames);
 *  - batches of different services share the device: at most `concurrency` at once (GPU
 *    streams), each new one slowed by mtSlowdown per batch already running, as in the simulator;
 *  - the same seeded log-normal noise (σ 0.1) on every batch;
 *  - everything × timeScale (the bench's time scaling: every delay ÷ k).
 * The real onnxruntime run counts towards the modelled time; only the rest is slept.
 */
import type { ServiceRunner } from '../../src/client/runner.js';
import type { Tensor } from '../../src/protocol/index.js';
import type { ServiceSpec } from '../../src/scheduler/types.js';
import { serviceTimeMs, type DeviceProfile } from '../../src/sim/device-profiles.js';
import { Rng } from '../../src/sim/rng.js';

/** Per device: the batches running now and the waiters for a free stream. */
export class DeviceSlots {
  active = 0;
  private readonly waiters: Array<() => void> = [];
  readonly rng: Rng;
  constructor(
    readonly profile: DeviceProfile,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }
  async acquire(): Promise<number> {
    while (this.active >= this.profile.concurrency) await new Promise<void>((r) => this.waiters.push(r));
    return this.active++;
  }
  release(): void {
    this.active--;
    this.waiters.shift()?.();
  }
}

/** The size factors of a request's rows, read from the first element of each row of its first input. */
export function rowSizes(inputs: readonly Tensor[]): number[] {
  const t = inputs[0];
  if (!t || t.dtype !== 'float32' || t.shape.length === 0) return [1];
  const rows = t.shape[0]!;
  const f = new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.length));
  const per = f.length / rows;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) out.push(f[r * per]! > 0 ? f[r * per]! : 1);
  return out;
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

export function pacedRunner(slots: DeviceSlots, spec: Pick<ServiceSpec, 'kind' | 'workMs'> | undefined, runner: ServiceRunner, timeScale: number): ServiceRunner {
  if (!spec) return runner;
  const pace = async <T>(sizes: number[], work: () => Promise<T>): Promise<T> => {
    const running = await slots.acquire();
    try {
      const factor = (1 + slots.profile.mtSlowdown * running) * Math.exp(0.1 * slots.rng.normal());
      const n = sizes.length;
      const modelled = Math.max(...sizes.map((s) => serviceTimeMs(slots.profile, spec, n, 1, s))) * factor;
      const t0 = performance.now();
      const out = await work();
      await sleep(modelled * timeScale - (performance.now() - t0));
      return out;
    } finally {
      slots.release();
    }
  };
  const paced: ServiceRunner = {
    run: (inputs, ctx) => pace(rowSizes(inputs), () => runner.run(inputs, ctx)),
    warmUp: runner.warmUp?.bind(runner),
    release: runner.release?.bind(runner),
  };
  if (runner.runBatch) {
    const rb = runner.runBatch.bind(runner);
    paced.runBatch = (batch, ctx) => pace(batch.flatMap((b) => rowSizes(b)), () => rb(batch, ctx));
  }
  return paced;
}
