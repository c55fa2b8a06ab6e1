/**
 * Reference COBS and CRC-32C written straight from protocol/SPEC.md §2.1 and §3,
 * used only to produce test vectors for the Verilog testbenches when the
 * protocol package's golden vectors are not available. The product code path
 * is src/protocol; this file must agree with it byte for byte.
 */

/** CRC-32C: reflected poly 0x82F63B78, init and xorout 0xFFFFFFFF. Check "123456789" = 0xE3069283. */
export function crc32cRef(data: Uint8Array, seed = 0): number {
  let c = ~seed >>> 0;
  for (const b of data) {
    c ^= b;
    for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

/** COBS (Cheshire & Baker) followed by the 0x00 delimiter; a 254-byte run is code 0xFF with no trailing 0x01. */
export function cobsEncodeRef(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let codeAt = 0;
  out.push(0);
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0) {
      out[codeAt] = code;
      codeAt = out.length;
      out.push(0);
      code = 1;
    } else {
      out.push(b);
      code++;
      if (code === 0xff) {
        out[codeAt] = code;
        code = 1;
        if (i + 1 < data.length) {
          codeAt = out.length;
          out.push(0);
        } else {
          codeAt = -1;
        }
      }
    }
  }
  if (codeAt >= 0) out[codeAt] = code;
  out.push(0);
  return Uint8Array.from(out);
}
