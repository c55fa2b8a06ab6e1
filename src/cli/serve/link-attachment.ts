import { backoffDelay } from '../../transport/reconnect.js';
import type { ByteStream } from '../../transport/byte-stream.js';
import type { EparaServer } from '../../server-adapter/server.js';
import type { EparaError } from '../../errors.js';

/**
 * A device that `epara serve` reaches by opening a link itself — a serial port (USB-UART or
 * /dev/rfcommN) or a BLE connection — is "connected" as long as that link is open: open it, hand
 * the stream to the server, and when it closes (HC-05 or BLE device out of range, cable pulled,
 * peripheral reset) open it again with capped exponential backoff until serve stops. serve never
 * exits because one device's link went away.
 */
export class LinkAttachment {
  private stream: ByteStream | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  /**
   * `open` must throw a humanized EparaError (code, reason, hint): the first failure is what
   * `epara serve` prints and exits with.
   */
  constructor(
    private readonly server: EparaServer,
    /** What kind of link, for serve.json and the log: 'serial' or 'ble'. */
    readonly kind: 'serial' | 'ble',
    readonly description: string,
    private readonly open: () => Promise<ByteStream>,
    private readonly log: (line: string) => void,
  ) {}

  /** Open once now so a wrong path, a missing adapter or a permission fails `epara serve` at start, with a hint. */
  async start(): Promise<void> {
    this.adopt(await this.open());
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
