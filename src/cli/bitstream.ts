import { CliError } from './cli-error.js';

/** The header Vivado writes in front of a Xilinx .bit file. */
export interface BitstreamHeader {
  design: string;
  part: string;
  date: string;
  time: string;
  /** Length of the configuration data that follows the header. */
  dataLength: number;
}

// Fixed 13-byte preamble: a 2-byte length (9), nine magic bytes, then a 2-byte length (1).
const PREAMBLE = [0x00, 0x09, 0x0f, 0xf0, 0x0f, 0xf0, 0x0f, 0xf0, 0x0f, 0xf0, 0x00, 0x00, 0x01];

/**
 * Parse the .bit header (fields 'a' design, 'b' part, 'c' date, 'd' time, 'e' data length).
 * Pure; throws CliError 'cli.bitstream' on anything that is not a Xilinx bitstream, so a wrong
 * file is caught before openFPGALoader touches the board.
 */
export function parseBitHeader(bytes: Uint8Array, file: string): BitstreamHeader {
  const bad = (why: string) =>
    new CliError({
      code: 'cli.bitstream',
      reason: `${file} is not a Xilinx .bit bitstream (${why})`,
      hint: 'pass the .bit that Vivado wrote (`make -C hdl/basys3 bit` writes hdl/basys3/build/basys3_top.bit), not the .bin/.mcs or a source file',
      field: 'bitstream',
    });
  if (bytes.length < PREAMBLE.length + 3) throw bad('file too short');
  for (let i = 0; i < PREAMBLE.length; i++) if (bytes[i] !== PREAMBLE[i]) throw bad('bad magic bytes');
  let off = PREAMBLE.length;
  const fields: Record<string, string> = {};
  while (off < bytes.length) {
    const key = String.fromCharCode(bytes[off]!);
    off += 1;
    if (key === 'e') {
      if (off + 4 > bytes.length) throw bad('truncated data length');
      const dataLength = ((bytes[off]! << 24) >>> 0) + (bytes[off + 1]! << 16) + (bytes[off + 2]! << 8) + bytes[off + 3]!;
      off += 4;
      if (off + dataLength > bytes.length) throw bad(`data section says ${dataLength} bytes but only ${bytes.length - off} follow`);
      if (!fields.b) throw bad('no part name field');
      return { design: fields.a ?? '', part: fields.b, date: fields.c ?? '', time: fields.d ?? '', dataLength };
    }
    if (!'abcd'.includes(key)) throw bad(`unexpected field '${key}' at byte ${off - 1}`);
    if (off + 2 > bytes.length) throw bad('truncated field length');
    const len = (bytes[off]! << 8) | bytes[off + 1]!;
    off += 2;
    if (off + len > bytes.length) throw bad('truncated field');
    fields[key] = new TextDecoder().decode(bytes.subarray(off, off + len)).replace(/\0+$/, '');
    off += len;
  }
  throw bad('no data section');
}

/** Build a .bit header + data (used by tests and the HDL flow's smoke checks). */
export function buildBit(h: Omit<BitstreamHeader, 'dataLength'>, data: Uint8Array): Uint8Array {
  const parts: number[] = [...PREAMBLE];
  const field = (key: string, value: string) => {
    const b = new TextEncoder().encode(value + '\0');
    parts.push(key.charCodeAt(0), b.length >> 8, b.length & 0xff, ...b);
  };
  field('a', h.design);
  field('b', h.part);
  field('c', h.date);
  field('d', h.time);
  parts.push(0x65, (data.length >>> 24) & 0xff, (data.length >>> 16) & 0xff, (data.length >>> 8) & 0xff, data.length & 0xff);
  const out = new Uint8Array(parts.length + data.length);
  out.set(parts);
  out.set(data, parts.length);
  return out;
}
