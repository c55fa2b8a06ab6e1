/**
 * The two BLE serial profiles epara speaks, with UUIDs in noble's form (lower-case, no dashes).
 * NUS: Nordic UART Service — the central writes to RX (write without response), the peripheral
 * notifies on TX. HM-10 (and its clones: AT-09, MLT-BT05, JDY-08): one characteristic FFE1 in
 * service FFE0 for both directions.
 */
export interface BleProfile {
  name: 'nus' | 'hm10';
  service: string;
  /** Characteristic the central writes to. */
  rx: string;
  /** Characteristic the peripheral notifies on. */
  tx: string;
  /** ATT MTU the usual modules negotiate; HM-10 firmware keeps the 23-byte default. */
  typicalMtu: number;
}

export const NUS: BleProfile = {
  name: 'nus',
  service: '6e400001b5a3f393e0a9e50e24dcca9e',
  rx: '6e400002b5a3f393e0a9e50e24dcca9e',
  tx: '6e400003b5a3f393e0a9e50e24dcca9e',
  typicalMtu: 247,
};

export const HM10: BleProfile = { name: 'hm10', service: 'ffe0', rx: 'ffe1', tx: 'ffe1', typicalMtu: 23 };

export const BLE_PROFILES = { nus: NUS, hm10: HM10 } as const;
