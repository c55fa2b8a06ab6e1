/** SPEC.md §10 walks through one HEARTBEAT byte by byte; it must stay identical to the vector. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { crc32c, encodeFrame } from '../../src/protocol/index.js';

const spec = readFileSync(new URL('../../protocol/SPEC.md', import.meta.url), 'utf8');
const example = spec.slice(spec.indexOf('## 10. Worked example'));
const vector = JSON.parse(readFileSync(new URL('../../protocol/vectors/valid.json', import.meta.url), 'utf8')).vectors.find(
  (v: { name: string }) => v.name === 'heartbeat',
);
const hexAfter = (label: string) => {
  const m = example.match(new RegExp(`\\*\\*${label}\\*\\*[^:]*:\\s*\`?\\n?\`?([0-9A-F ]+)\``));
  if (!m) throw new Error(`SPEC §10 lacks the ${label} line`);
  return m[1]!.replace(/ /g, '').toLowerCase();
};

describe('SPEC §10 worked example', () => {
  it('shows the same body, frame and wire bytes as the heartbeat vector', () => {
    expect(hexAfter('Body')).toBe(vector.body_hex);
    expect(hexAfter('Frame')).toBe(vector.frame_hex);
    expect(hexAfter('On the wire')).toBe(vector.wire_hex);
    expect(Buffer.from(encodeFrame({ type: 'HEARTBEAT', uptimeMs: 123456 }, { seq: 2 })).toString('hex')).toBe(vector.wire_hex);
  });

  it('states the CRC value the frame carries', () => {
    const frame = Buffer.from(vector.frame_hex, 'hex');
    const crc = crc32c(frame.subarray(0, frame.length - 4));
    expect(example).toContain(`0x${crc.toString(16).toUpperCase().padStart(8, '0')}`);
  });
});
