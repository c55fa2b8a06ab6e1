import { SerialPort } from 'serialport';
import { humanize } from '../human-errors.js';
import { LinkError } from '../../errors.js';
import { WIRE } from '../../protocol/error-codes.js';

/**
 * A line-oriented view of a serial port for AT commands. AT mode is not the epara protocol, so
 * this opens the port with `serialport` directly rather than through the frame transport; open
 * errors become the same human errors (dialout group, which process holds the port).
 */
export class SerialLines {
  private buf = '';
  private lines: string[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  private constructor(
    private readonly port: SerialPort,
    readonly path: string,
  ) {
    port.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      // Bound memory if the other end streams garbage without newlines (wrong baud rate).
      if (this.buf.length > 4096) this.buf = this.buf.slice(-4096);
      let i: number;
      while ((i = this.buf.search(/\r?\n/)) >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(this.buf[i] === '\r' ? i + 2 : i + 1);
      }
      this.wake?.();
    });
    port.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static async open(path: string, baudRate: number): Promise<SerialLines> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(humanize(err, { path })) : resolve())));
    return new SerialLines(port, path);
  }

  /** Drop anything buffered (boot banners, noise) before a command. */
  discard(): void {
    this.lines = [];
    this.buf = '';
  }

  async writeLine(line: string): Promise<void> {
    if (this.closed) throw new LinkError({ code: 'link.closed', wire: WIRE['link.closed'], reason: `${this.path} closed`, hint: 'check the USB cable' });
    await new Promise<void>((resolve, reject) =>
      this.port.write(line + '\r\n', (err) => (err ? reject(humanize(err, { path: this.path })) : this.port.drain(() => resolve()))),
    );
  }

  /** Collect lines until `done(lines)` returns a value or the timeout passes (then undefined). */
  async collect<T>(done: (lines: string[]) => T | undefined, timeoutMs: number): Promise<{ value: T | undefined; lines: string[] }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = done(this.lines);
      if (v !== undefined || this.closed) {
        const lines = this.lines;
        this.lines = [];
        return { value: v, lines };
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const lines = this.lines;
        this.lines = [];
        return { value: undefined, lines };
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          this.wake = undefined;
          resolve();
        };
      });
    }
  }

  async close(): Promise<void> {
    if (this.closed || !this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}
