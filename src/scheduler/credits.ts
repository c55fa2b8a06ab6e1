/**
 * AIMD credit control for frequency flows: a serving point holds a pool of credits (frames it will
 * accept in flight per service). The pool grows by `increase` after each batch whose queueing delay
 * stayed under the target and shrinks by the factor `decrease` when it exceeded it, so a camera flow
 * backs off before its frames pile up and miss their budget (TCP-style fairness between flows).
 */
import { resolveNumbers, type NumberOptionSpec } from '../options.js';

export const CREDIT_OPTIONS = {
  initial: { default: 8, min: 1, max: 4096, integer: true },
  min: { default: 1, min: 1, max: 4096, integer: true },
  max: { default: 256, min: 1, max: 65536, integer: true },
  increase: { default: 1, min: 0.01, max: 1024 },
  decrease: { default: 0.5, min: 0.01, max: 0.99 },
} satisfies Record<string, NumberOptionSpec>;

export type CreditOptions = { [K in keyof typeof CREDIT_OPTIONS]: number };

export class CreditController {
  private pool: number;
  private readonly o: CreditOptions;

  constructor(opts?: Partial<CreditOptions>) {
    this.o = resolveNumbers(CREDIT_OPTIONS, opts, 'credits.');
    this.pool = Math.min(this.o.max, Math.max(this.o.min, this.o.initial));
  }

  /** Whole credits available: how many frames may be in flight. */
  get credits(): number {
    return Math.floor(this.pool);
  }

  /** One observation of queueing delay against its target. */
  onSample(queueDelayMs: number, targetMs: number): void {
    if (queueDelayMs > targetMs) this.pool = Math.max(this.o.min, this.pool * this.o.decrease);
    else this.pool = Math.min(this.o.max, this.pool + this.o.increase);
  }
}
