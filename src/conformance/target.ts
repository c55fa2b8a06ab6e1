/**
 * Where the device under test is, and how the kit reaches it. Devices connect TO a gateway, so
 * for `tcp://host:port` the kit LISTENS there (like `epara serve`) and waits for the device; over
 * a serial line it opens the tty and waits for the device's HELLO; over BLE it is the central and
 * connects to the peripheral by its advertised name (and again after the device drops the link).
 */
import { EventEmitter } from 'node:events';
import type { ByteStream, Listener } from '../transport/byte-stream.js';
import { listenTcp } from '../transport/tcp.js';
import { openSerial } from '../transport/serial.js';
import { connectBle, type NobleLike } from '../transport/ble.js';
import { ConformError } from './conform-error.js';

export type Target =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'serial'; path: string; baudRate?: number }
  | { kind: 'ble'; name: string };

const HINT = 'give tcp://127.0.0.1:7878 (the kit listens; point the device at it), serial:/dev/ttyUSB0@115200 or ble:NAME; `epara ports` lists serial ports';

function bad(reason: string): ConformError {
  return new ConformError({ code: 'conform.target', reason, hint: HINT, field: 'target', usage: true });
}

/** Parse `tcp://host:port`, `serial:/dev/ttyX[@baud]` or `ble:NAME`. Throws conform.target (usage). */
export function parseTarget(s: string): Target {
  const text = s.trim();
  let m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (m) {
    const port = Number(m[2]);
    if (port > 65535) throw bad(`port ${port} in ${text} is above 65535`);
    return { kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port };
  }
  m = /^serial:(\/[^@\s]+)(?:@(\d+))?$/.exec(text);
  if (m) {
    const baudRate = m[2] === undefined ? undefined : Number(m[2]);
    if (baudRate !== undefined && (baudRate < 50 || baudRate > 12_000_000)) throw bad(`baud rate ${baudRate} in ${text} is outside 50..12000000`);
    return { kind: 'serial', path: m[1]!, ...(baudRate !== undefined ? { baudRate } : {}) };
  }
  m = /^ble:(.{1,64})$/.exec(text);
  if (m) return { kind: 'ble', name: m[1]! };
  throw bad(`cannot read the target ${JSON.stringify(text)}`);
}

export function formatTarget(t: Target): string {
  if (t.kind === 'tcp') return `tcp://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  if (t.kind === 'serial') return `serial:${t.path}${t.baudRate ? `@${t.baudRate}` : ''}`;
  return `ble:${t.name}`;
}

/**
 * Streams to the device, one per link. `'stream'` is emitted for every new link: a TCP connection
 * the device made, the serial port once, a BLE connection (again after each drop).
 */
export interface DeviceLinks extends EventEmitter {
  readonly description: string;
  /** Can the kit cut the link so that the device sees it drop (TCP, BLE)? A tty cannot be cut from one end. */
  readonly canDrop: boolean;
  /** The TCP port actually bound (for port 0). */
  readonly port?: number;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** BLE: a noble instance (tests: emulated bindings); default: the platform adapter. */
  noble?: NobleLike;
  /** BLE connect budget per attempt. */
  connectTimeoutMs?: number;
}

class TcpLinks extends EventEmitter implements DeviceLinks {
  readonly canDrop = true;
  constructor(
    private readonly listener: Listener & { port: number },
    readonly description: string,
  ) {
    super();
    listener.on('connection', (s: ByteStream) => this.emit('stream', s));
    listener.on('error', () => undefined);
  }
  get port(): number {
    return this.listener.port;
  }
  close(): Promise<void> {
    return this.listener.close();
  }
}

class SerialLinks extends EventEmitter implements DeviceLinks {
  readonly canDrop = false;
  readonly description: string;
  constructor(private readonly stream: ByteStream) {
    super();
    this.description = `serial:${stream.description}`;
    // Emitted on the next tick so the runner has its listener in place.
    setImmediate(() => this.emit('stream', stream));
  }
  close(): Promise<void> {
    return this.stream.close();
  }
}

class BleLinks extends EventEmitter implements DeviceLinks {
  readonly canDrop = true;
  readonly description: string;
  private closing = false;
  private current?: ByteStream;
  constructor(
    private readonly name: string,
    private readonly o: OpenOptions,
    first: ByteStream,
  ) {
    super();
    this.description = `ble:${name}`;
    this.adopt(first);
  }
  private adopt(s: ByteStream): void {
    this.current = s;
    s.once('close', () => void this.reconnect());
    setImmediate(() => this.emit('stream', s));
  }
  /** The device dropped the link (BYE, restart): connect again, as a gateway central would. */
  private async reconnect(): Promise<void> {
    for (let i = 0; i < 20 && !this.closing; i++) {
      await new Promise((r) => setTimeout(r, 200));
      try {
        const s = await connectBle({ noble: this.o.noble, name: this.name, timeoutMs: this.o.connectTimeoutMs ?? 10_000 });
        if (this.closing) return void s.close();
        return this.adopt(s);
      } catch {
        // not advertising yet (rebooting): try again
      }
    }
  }
  async close(): Promise<void> {
    this.closing = true;
    await this.current?.close();
  }
}

/** Open the target: listen (TCP), open the tty (serial) or connect (BLE). Link failures are link.* errors. */
export async function openTarget(t: Target, o: OpenOptions = {}): Promise<DeviceLinks> {
  if (t.kind === 'tcp') {
    const l = await listenTcp({ host: t.host, port: t.port });
    return new TcpLinks(l, `tcp://${t.host}:${l.port}`);
  }
  if (t.kind === 'serial') return new SerialLinks(await openSerial({ path: t.path, ...(t.baudRate ? { baudRate: t.baudRate } : {}) }));
  const s = await connectBle({ noble: o.noble, name: t.name, timeoutMs: o.connectTimeoutMs ?? 10_000 });
  return new BleLinks(t.name, o, s);
}
