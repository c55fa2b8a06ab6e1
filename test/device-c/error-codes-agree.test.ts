/**
 * The C library's error enum and name/reason table are generated from src/protocol/error-codes.ts
 * (scripts/gen-c-error-codes.ts): the committed files must be what the generator writes now, and
 * every enum value must be the wire code of the name it is derived from.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/protocol/error-codes.js';
import { C_HEADER_PATH, C_TABLE_PATH, cEnumName, renderHeader, renderTable } from '../../scripts/gen-c-error-codes.js';

describe('device-c error codes agree with src/protocol/error-codes.ts', () => {
  it('error_codes.h and error_codes.c are current (npx tsx scripts/gen-c-error-codes.ts)', () => {
    expect(readFileSync(C_HEADER_PATH, 'utf8')).toBe(renderHeader());
    expect(readFileSync(C_TABLE_PATH, 'utf8')).toBe(renderTable());
  });

  it('every enum constant has the wire code of its name, and none is missing or extra', () => {
    const h = readFileSync(C_HEADER_PATH, 'utf8');
    const found = new Map([...h.matchAll(/^\s+(EPARA_E_[A-Z_]+) = (\d+),$/gm)].map((m) => [m[1]!, Number(m[2])]));
    expect(found.size).toBe(ERROR_CODES.length);
    for (const e of ERROR_CODES) expect(found.get(cEnumName(e.name)), e.name).toBe(e.wire);
    expect(cEnumName('frame.crc')).toBe('EPARA_E_FRAME_CRC');
  });
});
