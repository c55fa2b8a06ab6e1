import { EventEmitter } from 'node:events';
import type { ByteStream } from '../../src/transport/byte-stream.js';
import { BaseByteStream } from '../../src/transport/base-stream.js';
import { BLE_PROFILES, type BleProfile } from '../../src/transport/ble-profiles.js';
import { realClock, type Clock } from '../../src/transport/clock.js';
import { closedError } from '../../src/transport/link-errors.js';
import { BleRadio, type BleRadioOptions } from './ble-link.js';

/**
 * Emulated BLE peripherals behind the bindings interface that @abandonware/noble drives (the
 * object `require('@abandonware/noble/with-bindings')(bindings)` takes). Tests and device
 * emulators run the REAL noble library against it: noble calls init/startScanning/connect/
 * discoverServices/discoverCharacteristics/write/notify here, and we answer with the events noble
 * listens for (stateChange, scanStart, discover, connect, onMtu, servicesDiscover,
 * characteristicsDiscover, write, notify, read, disconnect). The radio between them is BleRadio:
 * ATT MTU, connection interval, notification loss.
 *
 * The device side of each connection is a ByteStream ('connection' event on EmulatedPeripheral):
 * what a device emulator reads and writes, as firmware on an nRF52 or an HM-10 module would.
 */
export interface EmulatedPeripheralSpec {
  /** noble peripheral id (uuid). Default: the address without colons. */
  id?: string;
  address: string;
  name: string;
  profile: 'nus' | 'hm10';
  rssi?: number;
  /** Radio parameters for each connection (attMtu defaults to the profile's typical MTU). */
  radio?: Omit<BleRadioOptions, 'clock'>;
}

export class EmulatedPeripheral extends EventEmitter {
  readonly id: string;
  readonly profile: BleProfile;
  /** The current connection's radio (for counters), if connected. */
  radio?: BleRadio;
  connections = 0;
  constructor(readonly spec: EmulatedPeripheralSpec) {
    super();
    this.id = spec.id ?? spec.address.replace(/:/g, '').toLowerCase();
    this.profile = BLE_PROFILES[spec.profile];
  }
  override on(event: 'connection', listener: (stream: ByteStream) => void): this {
    return super.on(event, listener);
  }
  override once(event: 'connection', listener: (stream: ByteStream) => void): this {
    return super.once(event, listener);
  }
}

/** The device's end of one BLE connection: writes become notifications of ≤ ATT_MTU − 3 bytes. */
class PeripheralStream extends BaseByteStream {
  readonly kind = 'ble' as const;
  subscribed = false;
  constructor(
    readonly description: string,
    private readonly radio: BleRadio,
    private readonly hangUp: () => void,
  ) {
    super();
  }
  async write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen) throw closedError(this.description);
    // Without a subscription a real peripheral cannot notify; the bytes are gone.
    if (!this.subscribed) return;
    const step = this.radio.payload;
    for (let off = 0; off < bytes.length; off += step) {
      await this.radio.sendToCentral(bytes.subarray(off, off + step));
      if (!this.isOpen) throw closedError(this.description);
    }
  }
  async close(): Promise<void> {
    this.hangUp();
  }
  receive(p: Uint8Array): void {
    this.emitData(p);
  }
  drop(err?: ReturnType<typeof closedError>): void {
    this.markClosed(err);
  }
}

interface Connection {
  peripheral: EmulatedPeripheral;
  radio: BleRadio;
  stream: PeripheralStream;
}

export interface EmulatedBindingsOptions {
  peripherals: EmulatedPeripheral[];
  clock?: Clock;
  /** Adapter state noble sees after init(): anything but poweredOn emulates a missing/blocked adapter. */
  adapterState?: 'poweredOn' | 'poweredOff' | 'unauthorized' | 'unsupported';
}

export class EmulatedBleBindings extends EventEmitter {
  private readonly peripherals = new Map<string, EmulatedPeripheral>();
  private readonly connections = new Map<string, Connection>();
  private readonly clock: Clock;
  private scanning = false;

  constructor(private readonly o: EmulatedBindingsOptions) {
    super();
    for (const p of o.peripherals) this.peripherals.set(p.id, p);
    this.clock = o.clock ?? realClock;
  }

  // Event emission is deferred (as real HCI answers are) so noble has registered its callbacks.
  private later(fn: () => void): void {
    this.clock.setTimeout(fn, 0);
  }

  init(): void {
    this.later(() => this.emit('stateChange', this.o.adapterState ?? 'poweredOn'));
  }

  setScanParameters(): void {
    this.later(() => this.emit('scanParametersSet'));
  }

  startScanning(serviceUuids?: string[]): void {
    this.scanning = true;
    this.later(() => {
      this.emit('scanStart', false);
      for (const p of this.peripherals.values()) {
        if (!this.scanning) return;
        if (serviceUuids?.length && !serviceUuids.includes(p.profile.service)) continue;
        if (this.connections.has(p.id)) continue; // connected peripherals stop advertising
        const adv = { localName: p.spec.name, serviceUuids: [p.profile.service], serviceData: [], txPowerLevel: 0 };
        this.emit('discover', p.id, p.spec.address.toLowerCase(), 'public', true, adv, p.spec.rssi ?? -60, false);
      }
    });
  }

  stopScanning(): void {
    this.scanning = false;
    this.later(() => this.emit('scanStop'));
  }

  connect(id: string): void {
    const p = this.peripherals.get(id);
    if (!p) return this.later(() => this.emit('connect', id, new Error('unknown peripheral')));
    const radio = new BleRadio({ attMtu: p.profile.typicalMtu, ...p.spec.radio, clock: this.clock, seed: (p.spec.radio?.seed ?? 1) + p.connections });
    const stream = new PeripheralStream(`ble-peripheral:${p.spec.name}`, radio, () => this.drop(id, 0x13, true));
    radio.onPeripheralRx = (pdu) => stream.receive(pdu);
    radio.onCentralRx = (pdu) => this.emit('read', id, p.profile.service, p.profile.tx, Buffer.from(pdu), true);
    this.connections.set(id, { peripheral: p, radio, stream });
    p.radio = radio;
    p.connections++;
    this.later(() => {
      this.emit('connect', id, null);
      // hci-socket bindings emit the MTU after the exchange that follows the connection.
      this.emit('onMtu', id, radio.attMtu);
      p.emit('connection', stream);
    });
  }

  cancelConnect(): void {}

  disconnect(id: string): void {
    this.drop(id, 0x16, false);
  }

  /** Emulates the link going away (out of range, peripheral reset): reason 0x08 = supervision timeout. */
  dropConnection(id: string): void {
    this.drop(id, 0x08, false);
  }

  /** `byPeripheral`: the device closed its own end, so only the central sees a dropped link. */
  private drop(id: string, reason: number, byPeripheral: boolean): void {
    const c = this.connections.get(id);
    if (!c) return;
    this.connections.delete(id);
    c.radio.stop();
    c.stream.drop(byPeripheral ? undefined : closedError(c.stream.description));
    this.later(() => this.emit('disconnect', id, reason));
  }

  updateRssi(id: string): void {
    this.later(() => this.emit('rssiUpdate', id, this.peripherals.get(id)?.spec.rssi ?? -60));
  }

  discoverServices(id: string, uuids?: string[]): void {
    const c = this.connections.get(id);
    const svc = c ? [c.peripheral.profile.service] : [];
    this.later(() => this.emit('servicesDiscover', id, uuids?.length ? svc.filter((s) => uuids.includes(s)) : svc));
  }

  discoverIncludedServices(id: string, serviceUuid: string): void {
    this.later(() => this.emit('includedServicesDiscover', id, serviceUuid, []));
  }

  discoverCharacteristics(id: string, serviceUuid: string, uuids?: string[]): void {
    const c = this.connections.get(id);
    const prof = c?.peripheral.profile;
    let chars: Array<{ uuid: string; properties: string[] }> = [];
    if (prof && prof.service === serviceUuid) {
      chars =
        prof.rx === prof.tx
          ? [{ uuid: prof.rx, properties: ['read', 'writeWithoutResponse', 'write', 'notify'] }]
          : [
              { uuid: prof.rx, properties: ['writeWithoutResponse', 'write'] },
              { uuid: prof.tx, properties: ['notify'] },
            ];
    }
    if (uuids?.length) chars = chars.filter((ch) => uuids.includes(ch.uuid));
    this.later(() => this.emit('characteristicsDiscover', id, serviceUuid, chars));
  }

  read(id: string, serviceUuid: string, charUuid: string): void {
    this.later(() => this.emit('read', id, serviceUuid, charUuid, Buffer.alloc(0), false));
  }

  write(id: string, serviceUuid: string, charUuid: string, data: Buffer): void {
    const c = this.connections.get(id);
    if (!c || charUuid !== c.peripheral.profile.rx) return;
    // noble's write callback fires on our 'write' event: we send it when the radio took the
    // packet, which is how a full controller queue pushes back on the writer.
    c.radio.sendToPeripheral(data).then(
      () => this.emit('write', id, serviceUuid, charUuid),
      () => undefined,
    );
  }

  broadcast(id: string, serviceUuid: string, charUuid: string, on: boolean): void {
    this.later(() => this.emit('broadcast', id, serviceUuid, charUuid, on));
  }

  notify(id: string, serviceUuid: string, charUuid: string, on: boolean): void {
    const c = this.connections.get(id);
    if (c && charUuid === c.peripheral.profile.tx) c.stream.subscribed = on;
    this.later(() => this.emit('notify', id, serviceUuid, charUuid, on));
  }

  discoverDescriptors(id: string, serviceUuid: string, charUuid: string): void {
    this.later(() => this.emit('descriptorsDiscover', id, serviceUuid, charUuid, ['2902']));
  }

  readValue(id: string, s: string, c: string, d: string): void {
    this.later(() => this.emit('valueRead', id, s, c, d, Buffer.alloc(0)));
  }
  writeValue(id: string, s: string, c: string, d: string): void {
    this.later(() => this.emit('valueWrite', id, s, c, d));
  }
  readHandle(id: string, handle: number): void {
    this.later(() => this.emit('handleRead', id, handle, Buffer.alloc(0)));
  }
  writeHandle(id: string, handle: number): void {
    this.later(() => this.emit('handleWrite', id, handle));
  }
  reset(): void {}
  stop(): void {
    for (const id of [...this.connections.keys()]) this.drop(id, 0x16, false);
  }
}
