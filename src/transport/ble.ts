import type { EventEmitter } from 'node:events';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LinkError } from '../errors.js';
import { resolveNumber } from '../options.js';
import type { ByteStream } from './byte-stream.js';
import { BaseByteStream } from './base-stream.js';
import { BLE_PROFILES, HM10, NUS, type BleProfile } from './ble-profiles.js';
import { closedError, linkError } from './link-errors.js';

export { NUS, HM10 };

/** The parts of a noble instance we use (noble ships types only for its main entry). */
export interface NobleLike extends EventEmitter {
  readonly state: string;
  startScanning(serviceUuids: string[], allowDuplicates: boolean, cb?: (err?: Error | null) => void): void;
  stopScanning(cb?: () => void): void;
}
interface NoblePeripheral extends EventEmitter {
  id: string;
  address: string;
  advertisement: { localName?: string; serviceUuids?: string[] };
  mtu: number | null;
  state: string;
  connect(cb: (err?: Error | null) => void): void;
  disconnect(cb?: () => void): void;
  discoverSomeServicesAndCharacteristics(s: string[], c: string[], cb: (err: unknown, services: unknown[], chars: NobleCharacteristic[]) => void): void;
}
interface NobleCharacteristic extends EventEmitter {
  uuid: string;
  properties: string[];
  write(data: Buffer, withoutResponse: boolean, cb: (err?: Error | null) => void): void;
  subscribe(cb: (err?: Error | null) => void): void;
}

export interface BleOptions {
  /** A noble instance (e.g. `require('@abandonware/noble/with-bindings')(bindings)`); loaded lazily when absent. */
  noble?: NobleLike;
  /** Peripheral address (aa:bb:cc:dd:ee:ff, any case) … */
  address?: string;
  /** … or advertised local name. Neither: the first peripheral advertising the service. */
  name?: string;
  service?: 'nus' | 'hm10';
  /** Scan + connect + discovery budget. */
  timeoutMs?: number;
}

let cachedNoble: Promise<NobleLike> | undefined;
/** The EPARA_BLE_BINDINGS value the cached noble was made for ('' = the platform adapter). */
let cachedFor = '';

/**
 * Loads noble on first use only. `@abandonware/noble/with-bindings` is the library without any
 * platform code; the platform bindings (HCI socket on Linux) come from lib/resolve-bindings,
 * whose constructor opens the adapter and throws where there is none — we turn that into a
 * LinkError instead of letting it break `import 'epara'`.
 */
export function loadNoble(): Promise<NobleLike> {
  const want = process.env.EPARA_BLE_BINDINGS ?? '';
  if (cachedFor !== want) cachedNoble = undefined;
  cachedFor = want;
  cachedNoble ??= (async () => {
    // Specifiers in variables: TypeScript must not try to resolve these untyped CommonJS files.
    const withBindingsPath = '@abandonware/noble/with-bindings.js';
    const resolvePath = '@abandonware/noble/lib/resolve-bindings.js';
    let withBindings: (b: unknown) => NobleLike;
    let resolveBindings: (o?: unknown) => unknown;
    try {
      withBindings = ((await import(withBindingsPath)) as { default: (b: unknown) => NobleLike }).default;
      resolveBindings = ((await import(resolvePath)) as { default: (o?: unknown) => unknown }).default;
    } catch (err) {
      // An optional peer dependency (package.json): UART/TCP gateways never install it.
      throw linkError(
        'link.unavailable',
        'the BLE library @abandonware/noble is not installed (an optional peer dependency of epara)',
        'npm install @abandonware/noble@1.9.2-26 in the app to use BLE links (on Linux its HCI module compiles: python3, make, g++, libudev-dev)',
        { cause: err },
      );
    }
    if (want) return withBindings(await customBindings(want));
    let bindings: unknown;
    try {
      bindings = resolveBindings();
    } catch (err) {
      const msg = String((err as Error)?.message ?? err);
      throw linkError(
        'link.unavailable',
        `no usable Bluetooth adapter: ${msg.split('\n')[0]!.slice(0, 120)}`,
        /EAFNOSUPPORT|address family/i.test(msg)
          ? 'this kernel or container has no Bluetooth HCI sockets: run on a host with a BLE adapter (check: bluetoothctl list), or use a UART/TCP link'
          : /bluetooth-hci-socket|Cannot find module|was compiled/i.test(msg)
            ? 'the native HCI module is not built: npm rebuild @abandonware/bluetooth-hci-socket (needs libudev-dev and a compiler)'
            : 'check that a Bluetooth adapter is present and powered (bluetoothctl list / bluetoothctl power on)',
        { cause: err },
      );
    }
    return withBindings(bindings);
  })();
  // A failed load is not cached: the adapter may be plugged in later.
  cachedNoble.catch(() => (cachedNoble = undefined));
  return cachedNoble;
}

/**
 * `EPARA_BLE_BINDINGS=<module>`: noble bindings from a module whose default export returns them,
 * instead of the platform's HCI socket — for an adapter reached another way (noble's websocket
 * bindings to a remote host, say) or the emulated peripherals of firmware-sims (how the CLI's
 * `serve --ble` is tested without a radio).
 */
async function customBindings(spec: string): Promise<unknown> {
  let make: unknown;
  try {
    make = ((await import(pathToFileURL(resolvePath(spec)).href)) as { default?: unknown }).default;
  } catch (err) {
    throw linkError('link.unavailable', `cannot load the BLE bindings module ${spec} (EPARA_BLE_BINDINGS)`, 'point EPARA_BLE_BINDINGS at a module whose default export returns noble bindings, or unset it to use the Bluetooth adapter', { cause: err });
  }
  if (typeof make !== 'function') {
    throw linkError('link.unavailable', `the BLE bindings module ${spec} (EPARA_BLE_BINDINGS) has no default-exported function`, 'export default () => bindings (an object with noble\'s bindings API)');
  }
  return (make as () => unknown)();
}

const STATE_HINTS: Record<string, string> = {
  poweredOff: 'power the adapter on: bluetoothctl power on (or rfkill unblock bluetooth)',
  unauthorized: 'give node raw HCI access: sudo setcap cap_net_raw+eip $(readlink -f $(which node)), or run as root',
  unsupported: 'this adapter does not support BLE, or none is present (bluetoothctl list)',
  unknown: 'the adapter did not report its state; check bluetoothctl list and dmesg',
  resetting: 'the adapter is resetting; retry in a few seconds',
};

function waitPoweredOn(noble: NobleLike, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (state: string): boolean => {
      if (state === 'poweredOn') {
        resolve();
        return true;
      }
      if (state !== 'unknown' && state !== 'resetting') {
        reject(linkError('link.unavailable', `Bluetooth adapter is ${state}`, STATE_HINTS[state] ?? STATE_HINTS.unknown!, { details: { state } }));
        return true;
      }
      return false;
    };
    // Reading .state lazily initialises noble's bindings; subscribe first so no change is missed.
    const onState = (s: string): void => {
      if (check(s)) cleanup();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(linkError('link.unavailable', `Bluetooth adapter not ready after ${timeoutMs} ms (state ${noble.state})`, STATE_HINTS[noble.state] ?? STATE_HINTS.unknown!));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      noble.off('stateChange', onState);
    };
    noble.on('stateChange', onState);
    if (check(noble.state)) cleanup();
  });
}

const cb =
  <T = void>(fn: (done: (err?: unknown, v?: T) => void) => void): Promise<T> =>
    new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));

class BleStream extends BaseByteStream {
  readonly kind = 'ble' as const;
  readonly description: string;
  private closing = false;

  constructor(
    private readonly peripheral: NoblePeripheral,
    private readonly rx: NobleCharacteristic,
    notifyChar: NobleCharacteristic,
    readonly profile: BleProfile,
    readonly attMtu: number,
  ) {
    super();
    this.description = `ble:${peripheral.address || peripheral.id}${peripheral.advertisement?.localName ? ` (${peripheral.advertisement.localName})` : ''} ${profile.name} mtu=${attMtu}`;
    notifyChar.on('data', (data: Buffer, isNotification: boolean) => {
      // Notifications arrive in ATT-sized pieces; the byte stream is their concatenation and the
      // frame decoder above finds frame boundaries, so nothing needs reassembling here.
      if (isNotification !== false) this.emitData(data);
    });
    peripheral.once('disconnect', () => {
      const err = this.closing ? undefined : closedError(this.description);
      this.failWaiters(err ?? closedError(this.description));
      this.markClosed(err);
    });
  }

  /** Bytes per ATT write: ATT_MTU − 3 (the opcode and handle take 3). */
  get payload(): number {
    return this.attMtu - 3;
  }

  /**
   * Queues bytes like a socket does: resolves at once while less than `highWater` bytes wait,
   * otherwise when the queue has drained below it (or rejects when the link drops). A pump sends
   * full ATT_MTU − 3 packets from the queue, so back-to-back frames share packets instead of each
   * frame ending in a short one.
   */
  write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(closedError(this.description));
    if (bytes.length === 0) return Promise.resolve();
    this.queue.push(Buffer.from(bytes));
    this.queued += bytes.length;
    if (!this.pumping) void this.pump();
    if (this.queued < this.highWater) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  private queue: Buffer[] = [];
  private queued = 0;
  private pumping = false;
  private drainWaiters: Array<{ resolve: () => void; reject: (e: LinkError) => void }> = [];
  private get highWater(): number {
    return Math.max(1024, 4 * this.payload);
  }

  private take(n: number): Buffer {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n && this.queue.length > 0) {
      const head = this.queue[0]!;
      const k = Math.min(n - got, head.length);
      parts.push(head.subarray(0, k));
      got += k;
      if (k === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(k);
    }
    this.queued -= got;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    const withoutResponse = this.rx.properties.includes('writeWithoutResponse');
    try {
      while (this.queued > 0 && this.isOpen) {
        const packet = this.take(this.payload);
        // One write at a time: noble matches write callbacks by characteristic, not by request,
        // and the callback is when the stack took the packet — our backpressure.
        await cb((done) => this.rx.write(packet, withoutResponse, done));
        if (this.queued < this.highWater) for (const w of this.drainWaiters.splice(0)) w.resolve();
      }
    } catch (err) {
      this.failWaiters(closedError(this.description, err));
      // A write the stack refused means the connection is unusable.
      this.peripheral.disconnect();
    } finally {
      this.pumping = false;
    }
  }

  private failWaiters(err: LinkError): void {
    this.queue = [];
    this.queued = 0;
    for (const w of this.drainWaiters.splice(0)) w.reject(err);
  }

  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      if (!this.isOpen || this.peripheral.state === 'disconnected') {
        this.markClosed();
        return resolve();
      }
      this.peripheral.disconnect(() => {
        this.markClosed();
        resolve();
      });
    });
  }
}

/**
 * Connects to a BLE serial peripheral (NUS or HM-10) and returns a ByteStream: writes are split
 * into ATT_MTU − 3 pieces (write without response where the characteristic allows it),
 * notifications are joined back into the byte stream.
 */
export async function connectBle(opts: BleOptions = {}): Promise<ByteStream> {
  const timeoutMs = resolveNumber('timeoutMs', opts.timeoutMs, { default: 15_000, min: 100, max: 600_000, unit: 'ms' });
  const profileName = opts.service ?? 'nus';
  const profile: BleProfile | undefined = BLE_PROFILES[profileName];
  if (!profile) throw linkError('link.open_failed', `unknown BLE service ${String(profileName)}`, "use service: 'nus' (Nordic UART) or 'hm10' (FFE0/FFE1)", { field: 'service' });
  const noble = opts.noble ?? (await loadNoble());
  const deadline = Date.now() + timeoutMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  await waitPoweredOn(noble, left());

  const want = opts.address?.toLowerCase();
  const wantName = opts.name;
  const what = want ? `address ${want}` : wantName ? `name "${wantName}"` : `the ${profile.name.toUpperCase()} service`;
  const peripheral = await new Promise<NoblePeripheral>((resolve, reject) => {
    const onDiscover = (p: NoblePeripheral): void => {
      if (want && p.address?.toLowerCase() !== want && p.id?.toLowerCase() !== want.replace(/:/g, '')) return;
      if (wantName && p.advertisement?.localName !== wantName) return;
      done();
      resolve(p);
    };
    const timer = setTimeout(() => {
      done();
      reject(linkError('link.timeout', `no BLE peripheral with ${what} found within ${timeoutMs} ms`, `check that the device is powered, advertising and in range, and not connected to another central (a connected peripheral stops advertising)`, { details: { timer: 'scan', timeoutMs, service: profile.name } }));
    }, left());
    const done = (): void => {
      clearTimeout(timer);
      noble.off('discover', onDiscover);
      noble.stopScanning();
    };
    noble.on('discover', onDiscover);
    noble.startScanning([profile.service], false, (err) => {
      if (err) {
        done();
        reject(linkError('link.unavailable', `BLE scan failed: ${String((err as Error).message ?? err)}`, STATE_HINTS[noble.state] ?? 'check the adapter', { cause: err }));
      }
    });
  });

  const withTimeout = <T>(p: Promise<T>, step: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        peripheral.disconnect();
        reject(linkError('link.timeout', `BLE ${step} with ${peripheral.address} did not finish within ${timeoutMs} ms`, 'move the device closer or power-cycle it; a busy peripheral may need a longer timeoutMs', { details: { timer: step, timeoutMs } }));
      }, left());
      p.then(
        (v) => {
          clearTimeout(t);
          resolve(v);
        },
        (e) => {
          clearTimeout(t);
          reject(e);
        },
      );
    });
  await withTimeout(cb((d) => peripheral.connect(d)), 'connect').catch((err: unknown) => {
    throw isLinkError(err) ? err : linkError('link.open_failed', `BLE connect to ${peripheral.address} failed: ${String((err as Error)?.message ?? err)}`, 'retry; if it persists, power-cycle the peripheral', { cause: err });
  });
  const chars = await withTimeout(
    new Promise<NobleCharacteristic[]>((resolve, reject) =>
      peripheral.discoverSomeServicesAndCharacteristics([profile.service], [...new Set([profile.rx, profile.tx])], (err, _s, c) => (err ? reject(err) : resolve(c))),
    ),
    'service discovery',
  ).catch((err: unknown) => {
    peripheral.disconnect();
    throw isLinkError(err) ? err : linkError('link.open_failed', `${peripheral.address} does not offer the ${profile.name.toUpperCase()} service`, `check the module type: NUS (nRF52) or HM-10 (FFE0/FFE1); pass service: '${profile.name === 'nus' ? 'hm10' : 'nus'}' for the other`, { cause: err });
  });
  const rx = chars.find((c) => c.uuid === profile.rx);
  const tx = chars.find((c) => c.uuid === profile.tx);
  if (!rx || !tx) {
    peripheral.disconnect();
    throw linkError('link.open_failed', `${peripheral.address} lacks the ${profile.name.toUpperCase()} characteristics`, 'the module runs other firmware; check its GATT table with nRF Connect');
  }
  await withTimeout(cb((d) => tx.subscribe(d)), 'notification subscribe');
  // noble learns the MTU from the exchange after connect; 23 is what BLE guarantees without it.
  const mtu = Math.max(23, Math.min(517, peripheral.mtu ?? 23));
  return new BleStream(peripheral, rx, tx, profile, mtu);
}

function isLinkError(e: unknown): e is LinkError {
  return typeof e === 'object' && e !== null && 'code' in e && String((e as LinkError).code).startsWith('link.');
}
