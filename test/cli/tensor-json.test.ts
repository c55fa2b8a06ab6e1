import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensorValues } from '../../src/protocol/index.js';
import { parseInputs, toWire, fromWire } from '../../src/cli/tensor-json.js';
import { fleetSpec } from '../../src/cli/commands/fleet.js';
import { expandClasses, parseTargets } from '../../src/cli/commands/deploy.js';
import { parseHostPort, parseSerial } from '../../src/cli/serve/link-flags.js';

describe('infer --input forms', () => {
  it('a nested array is one float32 tensor named input with the nesting as shape', () => {
    const [t] = parseInputs('[[1, 2, 3], [4, 5, 6]]', '/');
    expect(t).toMatchObject({ name: 'input', dtype: 'float32', shape: [2, 3] });
    expect(Array.from(tensorValues(t!) as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('objects with values or base64 data, one or several, inline or from a file', () => {
    const [a, b] = parseInputs('[{"name":"x","dtype":"int8","shape":[2],"values":[-1,7]},{"name":"y","dtype":"uint8","shape":[4],"data":"AQIDBA=="}]', '/');
    expect(Array.from(tensorValues(a!) as Int8Array)).toEqual([-1, 7]);
    expect(Array.from(b!.data)).toEqual([1, 2, 3, 4]);
    const dir = mkdtempSync(join(tmpdir(), 'epara-in-'));
    try {
      writeFileSync(join(dir, 'in.json'), '{"name":"ids","dtype":"int64","shape":[1,2],"values":[[5,9]]}');
      const [c] = parseInputs('in.json', dir);
      expect(c).toMatchObject({ name: 'ids', dtype: 'int64', shape: [1, 2] });
      expect(Array.from(tensorValues(c!) as BigInt64Array)).toEqual([5n, 9n]);
      expect(fromWire(toWire(c!))).toEqual(c);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects ragged arrays, non-numbers, wrong sizes, unknown dtypes and missing files', () => {
    expect(() => parseInputs('[[1,2],[3]]', '/')).toThrow(/ragged/);
    expect(() => parseInputs('[1, "2"]', '/')).toThrow(/not a finite number/);
    expect(() => parseInputs('{"dtype":"float32","shape":[3],"values":[1,2]}', '/')).toThrow(/do not fill shape/);
    expect(() => parseInputs('{"dtype":"float16","values":[1]}', '/')).toThrow(/not a tensor type/);
    expect(() => parseInputs('{"dtype":"uint8","shape":[3],"data":"AQI="}', '/')).toThrow(/needs 3/);
    expect(() => parseInputs('no-such-file.json', '/')).toThrow(/neither JSON nor an existing file/);
  });
});

describe('flag parsers', () => {
  it('fleet: a count cycles through the default mix unless a profile is given', () => {
    expect(fleetSpec('4', undefined)).toBe('microcomputer:2,embedded-gpu:1,gpu-server:1');
    expect(fleetSpec('3', 'mcu')).toBe('mcu:3');
    expect(fleetSpec('fpga:1,mcu:2', undefined)).toBe('fpga:1,mcu:2');
    expect(() => fleetSpec('0', undefined)).toThrow(/1\.\.1000/);
  });

  it('deploy --to: ids, a class, all, and class lists expanded to active ids', () => {
    expect(parseTargets('all')).toBe('all');
    expect(parseTargets('fpga')).toBe('fpga');
    expect(parseTargets('a, b')).toEqual(['a', 'b']);
    const devs = [
      { id: 'pi-1', deviceClass: 'microcomputer', status: 'active' },
      { id: 'pi-2', deviceClass: 'microcomputer', status: 'revoked' },
      { id: 'gpu-1', deviceClass: 'gpu-server', status: 'active' },
    ] as never[];
    expect(expandClasses(['microcomputer', 'gpu-1'], devs)).toEqual(['pi-1', 'gpu-1']);
    expect(() => expandClasses(['mcu'], devs)).toThrow(/matches no active device/);
  });

  it('serve: host:port and path@baud', () => {
    expect(parseHostPort('tcp', '0.0.0.0:7878')).toEqual({ host: '0.0.0.0', port: 7878 });
    expect(parseHostPort('tcp', '[::1]:7878')).toEqual({ host: '::1', port: 7878 });
    expect(parseHostPort('tcp', '7878')).toEqual({ host: '127.0.0.1', port: 7878 });
    expect(() => parseHostPort('tcp', '127.0.0.1:0')).toThrow(/not host:port/);
    expect(parseHostPort('tcp', '127.0.0.1:0', true).port).toBe(0);
    expect(parseSerial('/dev/rfcomm0@9600')).toEqual({ path: '/dev/rfcomm0', baudRate: 9600 });
    expect(parseSerial('/dev/ttyUSB1')).toEqual({ path: '/dev/ttyUSB1' });
    expect(() => parseSerial('/dev/ttyUSB1@12345')).toThrow(/not a standard baud rate/);
  });
});
