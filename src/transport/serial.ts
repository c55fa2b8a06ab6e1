import { existsSync } from 'node:fs';
import { DelimiterParser } from '@serialport/parser-delimiter';
import type { SerialPort as SerialPortType } from 'serialport';
import { resolveNumbers, type NumberOptionSpec } from '../options.js';
import { linkError, closedError } from './link-errors.js';
import { awaitDrain } from './await-drain.js';
import type { ByteStream } from './byte-stream.js';
import { BaseByteStream } from './base-stream.js';
import { serialOpenError } from './serial-errors.js';

export interface SerialOptions {
  /** Any tty path: /dev/ttyUSB0, /dev/ttyACM0, /dev/ttyS1, a pty, or /dev/rfcommN (then kind 'spp'). */
  path: string;
  /** Default 115200 for a UART, 9600 for an SPP tty (the HC-05's factory rate). */
  baudRate?: number;
  /** Bytes the write buffer may hold before write() waits for 'drain'. */
  highWaterMark?: number;
  /**
   * Longest delimiter-free run the 0x00 splitter may buffer before handing it on as is (the frame
   * decoder then reports frame.oversize). Bounds memory on a line that carries noise and no 0x00.
   */
  maxPieceBytes?: number;
  /**
   * How often an idle port is probed for a hang-up, ms (0 = never). The read side does not always
   * see one: when the far end of a pty goes away before the stream's first read is under way, no
   * read error, end or close ever arrives (one socat hang-up in four, right after the open, over
   * 40 tries), and the link looks open until a write fails. The probe asks the tty for its modem
   * lines (TIOCMGET): EIO / ENXIO / ENODEV, or a device node that is gone, mean the line hung up.
   */
  hangupCheckMs?: number;
}

const SPECS = (spp: boolean): Record<'baudRate' | 'highWaterMark' | 'maxPieceBytes' | 'hangupCheckMs', NumberOptionSpec> => ({
  baudRate: { default: spp ? 9600 : 115200, min: 50, max: 12_000_000, integer: true, unit: 'bit/s' },
  highWaterMark: { default: spp ? 1024 : 4096, min: 64, max: 1 << 24, integer: true, unit: 'bytes' },
  // 65535 + ceil(65535/254) + 1: the largest COBS piece protocol/SPEC.md §2.2 allows.
  maxPieceBytes: { default: 65_795, min: 64, max: 1 << 24, integer: true, unit: 'bytes' },
  hangupCheckMs: { default: 1000, min: 0, max: 3_600_000, integer: true, unit: 'ms' },
});

// What TIOCMGET fails with on a tty whose line hung up (a live pty answers ENOTTY: no modem lines).
// The binding gives strerror text only, so the texts of EIO, ENXIO (Linux and macOS) and ENODEV.
const HUNG_UP = /Input\/output error|No such device or address|Device not configured|No such device/;

class SerialStream extends BaseByteStream {
  readonly kind: 'uart' | 'spp';
  readonly description: string;
  readonly baudRate: number;

  constructor(
    private readonly port: SerialPortType,
    path: string,
    baud: number,
    maxPiece: number,
    hangupCheckMs: number,
  ) {
    super();
    this.baudRate = baud;
    this.kind = /rfcomm/.test(path) ? 'spp' : 'uart';
    this.description = `${path}@${baud}`;
    // The protocol delimits frames with 0x00 (SPEC §3); splitting here hands the frame decoder one
    // whole frame per chunk. DelimiterParser buffers without limit, so cap it ourselves.
    const parser = new DelimiterParser({ delimiter: [0], includeDelimiter: true });
    parser.on('data', (piece: Buffer) => this.emitData(piece));
    let heard = false;
    port.on('data', (chunk: Buffer) => {
      heard = true;
      parser.write(chunk);
      if (parser.buffer.length > maxPiece) {
        const junk = parser.buffer;
        parser.buffer = Buffer.alloc(0);
        this.emitData(junk);
      }
    });
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
      this.markClosed(err ? closedError(this.description, err) : undefined);
    });
    port.on('error', (err: Error) => {
      // An I/O error on an open port (cable pulled, adapter reset) ends the link; it must reach
      // our listeners as a typed close, never as an unhandled 'error' event.
      this.hangUp(err);
    });
    if (hangupCheckMs > 0) {
      const probe = setInterval(() => {
        // Bytes since the last look: the line is up.
        if (heard) return void (heard = false);
        if (!existsSync(path)) return this.hangUp(new Error(`${path} is gone (the device was unplugged or the pty's other end closed)`));
        port.get((err) => {
          if (err && HUNG_UP.test(err.message)) this.hangUp(new Error(`the line hung up (${err.message})`));
        });
      }, hangupCheckMs);
      probe.unref();
      this.once('close', () => clearInterval(probe));
    }
  }

  /** The line is gone: a typed close for our listeners, and the port released. */
  private hangUp(cause: Error): void {
    this.markClosed(closedError(this.description, cause));
    if (this.port.isOpen) this.port.close(() => undefined);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen || !this.port.isOpen) return Promise.reject(closedError(this.description));
    return new Promise((resolve, reject) => {
      let failed = false;
      const ok = this.port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (err) => {
        if (err) {
          failed = true;
          reject(closedError(this.description, err));
        }
      });
      if (ok) return resolve();
      // Over the high-water mark: resolve on drain, or fail if the port closes first.
      awaitDrain(this, this.port, () => (failed ? undefined : resolve()), reject);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.port.isOpen) {
        this.markClosed();
        return resolve();
      }
      this.port.close(() => {
        this.markClosed();
        resolve();
      });
    });
  }
}

/** Opens a serial port (UART or Bluetooth SPP tty) as a ByteStream. Errors are LinkErrors with hints. */
export async function openSerial(opts: SerialOptions): Promise<ByteStream> {
  if (typeof opts?.path !== 'string' || opts.path.length === 0) {
    throw linkError('link.open_failed', 'serial path is missing', 'pass path, e.g. /dev/ttyUSB0 or /dev/rfcomm0 (epara ports lists them)', { field: 'path' });
  }
  const spp = /rfcomm/.test(opts.path);
  const o = resolveNumbers(SPECS(spp), opts as unknown as Record<string, unknown>);
  let SerialPort: typeof SerialPortType;
  try {
    ({ SerialPort } = await import('serialport'));
  } catch (err) {
    throw linkError('link.unavailable', 'the serialport native module could not be loaded', 'reinstall dependencies on this machine (npm rebuild serialport); prebuilt binaries exist for linux x64/arm/arm64', { cause: err });
  }
  const port = new SerialPort({ path: opts.path, baudRate: o.baudRate, autoOpen: false, highWaterMark: o.highWaterMark });
  // Until the stream takes over, an error event must not crash the process.
  const early = (): void => undefined;
  port.on('error', early);
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve()))).catch(async (err) => {
    throw await serialOpenError(opts.path, err);
  });
  const stream = new SerialStream(port, opts.path, o.baudRate, o.maxPieceBytes, o.hangupCheckMs);
  port.off('error', early);
  return stream;
}
