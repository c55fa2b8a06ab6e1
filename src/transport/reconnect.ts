import { EventEmitter } from 'node:events';
import { EparaError, type LinkError } from '../errors.js';
import { resolveNumbers, type NumberOptionSpec } from '../options.js';
import type { ByteStream, Connector } from './byte-stream.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { linkError } from './link-errors.js';

export interface ReconnectOptions {
  /** First retry delay. */
  initialMs?: number;
  /** Delay cap. */
  maxMs?: number;
  /** 0..1: each delay is reduced by up to this fraction at random, so a fleet does not reconnect in lockstep. */
  jitter?: number;
  /** Give up after this many failed attempts in a row; 0 = never. */
  maxAttempts?: number;
  clock?: Clock;
  /** Random source in [0,1) for the jitter (Math.random by default; tests pass a seeded one). */
  random?: () => number;
}

export const RECONNECT_OPTIONS: Record<'initialMs' | 'maxMs' | 'jitter' | 'maxAttempts', NumberOptionSpec> = {
  initialMs: { default: 250, min: 1, max: 600_000, unit: 'ms' },
  maxMs: { default: 30_000, min: 1, max: 3_600_000, unit: 'ms' },
  jitter: { default: 0.5, min: 0, max: 1 },
  maxAttempts: { default: 0, min: 0, max: 1_000_000, integer: true },
};

/** Delay before retry number `attempt` (1-based): initial·2^(attempt−1), capped, minus jitter. Pure. */
export function backoffDelay(attempt: number, o: { initialMs: number; maxMs: number; jitter: number }, random: () => number = Math.random): number {
  const raw = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(attempt - 1, 40));
  return raw * (1 - o.jitter * random());
}

const sleep = (clock: Clock, ms: number): Promise<void> => new Promise((r) => clock.setTimeout(r, ms));

/**
 * Calls `connector` until it yields a stream, waiting a capped, jittered exponential backoff
 * between failures. Rejects only after `maxAttempts` failures (never, by default), with the last
 * error as cause.
 */
export async function reconnect(connector: Connector, opts: ReconnectOptions = {}, onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void): Promise<ByteStream> {
  const o = resolveNumbers(RECONNECT_OPTIONS, opts as Record<string, unknown>);
  const clock = opts.clock ?? realClock;
  const random = opts.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connector();
    } catch (error) {
      if (o.maxAttempts > 0 && attempt >= o.maxAttempts) {
        throw linkError('link.open_failed', `gave up reconnecting after ${attempt} attempts: ${error instanceof EparaError ? error.reason : String(error)}`, error instanceof EparaError ? error.hint : 'check that the peer is reachable', {
          details: { attempts: attempt },
          cause: error,
        });
      }
      const delayMs = backoffDelay(attempt, o, random);
      onRetry?.({ attempt, delayMs, error });
      await sleep(clock, delayMs);
    }
  }
}

export interface ReconnectingEvents {
  /** A stream is up (first connect or a reconnect). `attempt` counts failures before it. */
  connected: (stream: ByteStream, info: { attempt: number; reconnect: boolean }) => void;
  /** The current stream dropped; a reconnect loop starts. Devices go offline here, the process stays up. */
  disconnected: (error?: LinkError) => void;
  retrying: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  'gave-up': (error: LinkError) => void;
}

type State = 'idle' | 'connecting' | 'connected' | 'stopped';

/**
 * Keeps one link up: connects, and after every drop reconnects with backoff. It never throws and
 * never emits 'error'; failures are events. Hand each new stream to a new FrameLink and resume
 * the session (HELLO with `resume`) in the 'connected' handler.
 *
 * States: idle → connecting → connected → (drop) → connecting …; stop(), or closing the current
 * stream ourselves, → stopped.
 */
export class ReconnectingConnector extends EventEmitter {
  private state: State = 'idle';
  private stream?: ByteStream;
  private sleepTimer?: TimerHandle;
  private readonly o: ReturnType<typeof resolveNumbers<keyof typeof RECONNECT_OPTIONS>>;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(
    private readonly connector: Connector,
    opts: ReconnectOptions = {},
  ) {
    super();
    this.o = resolveNumbers(RECONNECT_OPTIONS, opts as Record<string, unknown>);
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
  }

  get current(): ByteStream | undefined {
    return this.state === 'connected' ? this.stream : undefined;
  }
  get status(): State {
    return this.state;
  }

  /** Starts the loop; resolves with the first stream (or rejects link.open_failed if maxAttempts is reached). */
  start(): Promise<ByteStream> {
    if (this.state !== 'idle') return Promise.reject(linkError('link.open_failed', `connector already ${this.state}`, 'call start() once; use stop() to end'));
    return new Promise((resolve, reject) => {
      this.once('connected', (s: ByteStream) => resolve(s));
      this.once('gave-up', reject);
      void this.loop(false);
    });
  }

  /** The current stream when connected; otherwise waits for the next 'connected' (e.g. after a drop). */
  nextStream(): Promise<ByteStream> {
    if (this.state === 'connected' && this.stream?.isOpen) return Promise.resolve(this.stream);
    return new Promise((resolve, reject) => {
      const ok = (s: ByteStream): void => {
        this.off('gave-up', bad);
        resolve(s);
      };
      const bad = (e: LinkError): void => {
        this.off('connected', ok);
        reject(e);
      };
      this.once('connected', ok);
      this.once('gave-up', bad);
    });
  }

  async stop(): Promise<void> {
    const s = this.stream;
    this.state = 'stopped';
    this.clock.clearTimeout(this.sleepTimer);
    this.stream = undefined;
    await s?.close().catch(() => undefined);
  }

  // A method, not an inline comparison: stop() may change the state across an await.
  private isStopped(): boolean {
    return this.state === 'stopped';
  }

  private async loop(isReconnect: boolean): Promise<void> {
    this.state = 'connecting';
    for (let attempt = 1; ; attempt++) {
      if (this.isStopped()) return;
      let stream: ByteStream;
      try {
        stream = await this.connector();
      } catch (error) {
        if (this.isStopped()) return;
        if (this.o.maxAttempts > 0 && attempt >= this.o.maxAttempts) {
          this.state = 'idle';
          this.emit(
            'gave-up',
            linkError('link.open_failed', `gave up after ${attempt} connection attempts`, error instanceof EparaError ? error.hint : 'check that the peer is reachable', { cause: error, details: { attempts: attempt } }),
          );
          return;
        }
        const delayMs = backoffDelay(attempt, this.o, this.random);
        this.emit('retrying', { attempt, delayMs, error });
        await new Promise<void>((r) => (this.sleepTimer = this.clock.setTimeout(r, delayMs)));
        continue;
      }
      if (this.isStopped()) {
        await stream.close().catch(() => undefined);
        return;
      }
      this.stream = stream;
      this.state = 'connected';
      stream.once('close', (err) => {
        if (this.state !== 'connected' || this.stream !== stream) return;
        this.stream = undefined;
        this.emit('disconnected', err);
        // A close without an error is one we asked for (stream.close() somewhere on our side):
        // that ends the loop. Only a dropped link is reconnected.
        if (err) void this.loop(true);
        else this.state = 'stopped';
      });
      this.emit('connected', stream, { attempt: attempt - 1, reconnect: isReconnect });
      return;
    }
  }
}
