/**
 * Turns a raw byte log of an epara serial link (what a logic analyser, `socat -x`, or
 * `cat /dev/ttyUSB0 > line.bin` recorded) into a pcap file that Wireshark opens with
 * protocol/wireshark/epara.lua: link-layer type USER0 (147), one record per wire frame (the bytes
 * up to and including each 0x00 delimiter), so no frame straddles two records.
 *
 * Run: npx tsx scripts/serial-to-pcap.ts line.bin line.pcap
 *      wireshark line.pcap   (or tshark -X lua_script:protocol/wireshark/epara.lua -r line.pcap)
 */
import { readFileSync, writeFileSync } from 'node:fs';

export const LINKTYPE_USER0 = 147;

export interface PcapRecord {
  /** capture time in microseconds since the epoch */
  timeUs: number;
  data: Uint8Array;
}

/** A classic (libpcap 2.4, microsecond) capture file of the records. */
export function pcapFile(records: readonly PcapRecord[], linkType = LINKTYPE_USER0): Uint8Array {
  const size = 24 + records.reduce((n, r) => n + 16 + r.data.length, 0);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeInt32LE(0, 8);
  out.writeUInt32LE(0, 12);
  out.writeUInt32LE(65535, 16);
  out.writeUInt32LE(linkType, 20);
  let at = 24;
  for (const r of records) {
    out.writeUInt32LE(Math.floor(r.timeUs / 1e6), at);
    out.writeUInt32LE(Math.floor(r.timeUs % 1e6), at + 4);
    out.writeUInt32LE(r.data.length, at + 8);
    out.writeUInt32LE(r.data.length, at + 12);
    out.set(r.data, at + 16);
    at += 16 + r.data.length;
  }
  return out;
}

/** Splits a byte log after every 0x00; a trailing piece without a delimiter is kept as the last record. */
export function splitFrames(log: Uint8Array): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < log.length; i++) {
    if (log[i] === 0) {
      pieces.push(log.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < log.length) pieces.push(log.subarray(start));
  return pieces;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: npx tsx scripts/serial-to-pcap.ts line.bin line.pcap');
    process.exit(2);
  }
  const t0 = Date.now() * 1000;
  const pieces = splitFrames(readFileSync(input));
  writeFileSync(output, pcapFile(pieces.map((data, i) => ({ timeUs: t0 + i, data }))));
  console.log(`${output}: ${pieces.length} records`);
}
