/**
 * The C library's message catalogue (device-c/src/schema.c, printed by tools/epara-schema-dump)
 * is the TypeScript one (src/protocol/messages/catalogue.ts): every message type, every field at
 * every depth with its presence, kind and range (text and byte-string lengths in bytes, array
 * lengths, the deviceId pattern). A field added or a limit changed on one side only fails here.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/protocol/messages/catalogue.js';
import { MessageType, type MessageName } from '../../src/protocol/messages/types.js';
import { TENSOR_NAME_MAX, type FieldSpec, type TypeSpec } from '../../src/protocol/messages/schema.js';
import { DEVICE_C_DIR, makeDeviceC, missingCompiler } from './device-c-build.js';

const noCompiler = missingCompiler();
const MAX = Number.MAX_SAFE_INTEGER;

function typeLines(msg: string, path: string, required: boolean, t: TypeSpec, out: string[]): void {
  const p = required ? 'R' : 'O';
  switch (t.t) {
    case 'uint':
      out.push(`${msg} ${path} ${p} uint ${t.min ?? 0} ${t.max ?? MAX}`);
      return;
    case 'enum':
      out.push(`${msg} ${path} ${p} uint 0 ${t.values.length - 1}`);
      return;
    case 'int':
      out.push(`${msg} ${path} ${p} int - -`);
      return;
    case 'bool':
      out.push(`${msg} ${path} ${p} bool - -`);
      return;
    case 'tstr':
      out.push(`${msg} ${path} ${p} tstr ${t.minBytes ?? 0} ${t.maxBytes ?? MAX}${t.pattern ? ' pattern' : ''}`);
      return;
    case 'bstr':
      out.push(`${msg} ${path} ${p} bstr ${t.size ?? 0} ${t.size ?? t.maxBytes ?? MAX}`);
      return;
    case 'array':
      out.push(`${msg} ${path} ${p} array ${t.min ?? 0} ${t.max ?? MAX}`);
      typeLines(msg, `${path}[]`, true, t.of, out);
      return;
    case 'range':
      out.push(`${msg} ${path} ${p} range - -`);
      typeLines(msg, `${path}[]`, true, t.of, out);
      return;
    case 'map':
      out.push(`${msg} ${path} ${p} map - -`);
      fieldLines(msg, path, t.fields, out);
      return;
    case 'tensor':
      out.push(`${msg} ${path} ${p} tensor - -`);
      return;
  }
}

// Only the fields of the protocol versions the C library speaks: a key added in a later version
// (`since`) is one a device of an earlier version never sees (the server leaves it out).
let speaks = 1;
function fieldLines(msg: string, prefix: string, fields: readonly FieldSpec[], out: string[]): void {
  for (const f of fields) {
    if (f.since !== undefined && f.since > speaks) continue;
    typeLines(msg, prefix ? `${prefix}.${f.name}` : f.name, f.required, f.type, out);
  }
}

describe.skipIf(noCompiler !== undefined)('device-c catalogue agrees with the TypeScript catalogue', () => {
  it('has the same messages, fields, presence, kinds and ranges', () => {
    const tool = join(makeDeviceC('schema', [join('build', 'schema', 'epara-schema-dump')]), 'epara-schema-dump');
    const r = spawnSync(tool, [], { cwd: DEVICE_C_DIR, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const [head, ...lines] = r.stdout.trim().split('\n');
    const range = /^protocol (\d+) (\d+)$/.exec(head ?? '');
    expect(range, `first line names the protocol range: ${head}`).not.toBeNull();
    speaks = Number(range![2]);
    const want: string[] = [];
    for (const name of Object.keys(CATALOGUE) as MessageName[]) {
      want.push(`${name} - type ${MessageType[name]}`);
      fieldLines(name, '', CATALOGUE[name], want);
    }
    expect(lines).toEqual(want);
    expect(want.length).toBeGreaterThan(100);
  }, 60_000);

  it('checks tensor names against the same limit (the tensor type is built into both walkers)', () => {
    const h = spawnSync('grep', ['-h', 'define EPARA_TENSOR_NAME_MAX', join(DEVICE_C_DIR, 'src', 'schema.h')], { encoding: 'utf8' });
    expect(Number(/EPARA_TENSOR_NAME_MAX (\d+)/.exec(h.stdout)?.[1])).toBe(TENSOR_NAME_MAX);
  });
});
