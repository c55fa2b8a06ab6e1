import { openSerial } from '../../transport/serial.js';
import { backoffDelay } from '../../transport/reconnect.js';
import type { ByteStream } from '../../transport/byte-stream.js';
import type { EparaServer } from '../../server-adapter/server.js';
import { humanize } from '../human-errors.js';
import type { EparaError } from '../../errors.js';
import type { SerialSpec } from './link-flags.js';

/**
 * A device behind a serial port (USB-UART or /dev/rfcommN) is "connected" as long as the port is
 * open: open it, hand the stream to the server, and when it closes (HC-05 out of range, cable
 * pulled) reopen it with capped exponential backoff until serve stops.
 */
export class SerialAttachment {
  private stream: ByteStream | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly server: EparaServer,
    readonly spec: SerialSpec,
    private readonly log: (line: string) => void,
  ) {}

  get description(): string {
    return `${this.spec.path}${this.spec.baudRate ? '@' + this.spec.baudRate : ''}`;
  }

  /** Open once now so a wrong path or permission fails `epara serve` at start, with a hint. */
  async start(): Promise<void> {
    const s = await this.open();
    this.adopt(s);
  }

  private async open(): Promise<ByteStream> {
    try {
      return await openSerial({ path: this.spec.path, ...(this.spec.baudRate ? { baudRate: this.spec.baudRate } : {}) });
    } catch (e) {
      throw humanize(e, { path: this.spec.path });
    }
  }

  private adopt(s: ByteStream): void {
    this.stream = s;
    this.server.attachStream(s);
    s.once('close', (err?: EparaError) => {
      this.stream = undefined;
      if (this.stopped) return;
      this.log(`${this.description}: link closed${err ? ` (${err.code})` : ''}; reopening with backoff`);
      void this.reopen();
    });
  }

  private async reopen(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const s = await this.open();
        if (this.stopped) {
          await s.close();
          return;
        }
        this.log(`${this.description}: reopened`);
        this.adopt(s);
        return;
      } catch {
        const delayMs = backoffDelay(attempt, { initialMs: 500, maxMs: 30_000, jitter: 0.2 });
        if (attempt === 1 || attempt % 10 === 0) this.log(`${this.description}: cannot reopen yet (attempt ${attempt}); retrying with backoff`);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, delayMs).unref();
        });
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.stream?.close().catch(() => undefined);
  }
}
