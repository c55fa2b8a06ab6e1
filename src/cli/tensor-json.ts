import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DTYPE_BY_NAME, elementCount, tensorFrom, tensorValues, type Tensor, type TensorDType } from '../protocol/tensor.js';
import { usageError } from './cli-error.js';

/** The HTTP API's tensor form: raw little-endian bytes in base64. */
export interface WireTensorJson {
  name: string;
  dtype: TensorDType;
  shape: number[];
  data: string;
}

const ARRAYS: Record<TensorDType, (n: number[]) => ArrayBufferView> = {
  uint8: (v) => Uint8Array.from(v),
  int8: (v) => Int8Array.from(v),
  uint16: (v) => Uint16Array.from(v),
  int16: (v) => Int16Array.from(v),
  uint32: (v) => Uint32Array.from(v),
  int32: (v) => Int32Array.from(v),
  int64: (v) => BigInt64Array.from(v.map((x) => BigInt(Math.trunc(x)))),
  float32: (v) => Float32Array.from(v),
  float64: (v) => Float64Array.from(v),
};

function flatten(x: unknown, shape: number[], depth: number, out: number[], field: string): void {
  if (Array.isArray(x)) {
    if (shape.length === depth) shape.push(x.length);
    else if (shape[depth] !== x.length) throw usageError('input', `${field}: ragged nested array (dimension ${depth} has ${x.length} and ${shape[depth]} elements)`, 'every row must have the same length');
    for (const y of x) flatten(y, shape, depth + 1, out, field);
    return;
  }
  if (typeof x !== 'number' || !Number.isFinite(x)) throw usageError('input', `${field}: ${JSON.stringify(x)} is not a finite number`, 'tensor values must be numbers');
  if (depth !== shape.length) throw usageError('input', `${field}: mixed scalars and arrays`, 'use a regular nested array');
  out.push(x);
}

/**
 * Accepted `--input` forms (JSON text, or a path to a .json file holding it):
 *   [[0.1, 0.2, ...]]                                      one float32 tensor named "input", shape from nesting
 *   {"name":"input","dtype":"float32","shape":[1,16],"values":[...]}
 *   {"name":"input","dtype":"float32","shape":[1,16],"data":"<base64 raw little-endian>"}
 *   [ {...}, {...} ]                                       several named tensors
 */
export function parseInputs(raw: string, cwd: string): Tensor[] {
  let text = raw.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) {
    const path = resolve(cwd, raw);
    if (!existsSync(path)) throw usageError('input', `--input ${raw} is neither JSON nor an existing file`, 'pass JSON like \'[[0.1,0.2]]\' or a path to a .json file');
    text = readFileSync(path, 'utf8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw usageError('input', `--input is not valid JSON: ${(e as Error).message}`, 'quote it for the shell: --input \'[[0.1, 0.2]]\'');
  }
  const isTensorObject = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (Array.isArray(json) && json.length > 0 && json.every(isTensorObject)) return json.map((t, i) => tensorFromJson(t, `inputs[${i}]`));
  if (isTensorObject(json)) return [tensorFromJson(json, 'input')];
  const values: number[] = [];
  const shape: number[] = [];
  flatten(json, shape, 0, values, 'input');
  return [tensorFrom('input', Float32Array.from(values), shape)];
}

function tensorFromJson(t: unknown, field: string): Tensor {
  const o = t as { name?: unknown; dtype?: unknown; shape?: unknown; values?: unknown; data?: unknown };
  const name = typeof o.name === 'string' ? o.name : 'input';
  const dtype = (o.dtype ?? 'float32') as TensorDType;
  if (!DTYPE_BY_NAME.has(dtype)) throw usageError('input', `${field}.dtype ${JSON.stringify(o.dtype)} is not a tensor type`, `use one of ${[...DTYPE_BY_NAME.keys()].join(', ')}`);
  if (typeof o.data === 'string') {
    if (!Array.isArray(o.shape)) throw usageError('input', `${field}: "data" needs an explicit "shape"`, 'add "shape": [1, 16]');
    const bytes = new Uint8Array(Buffer.from(o.data, 'base64'));
    const want = elementCount(o.shape as number[]) * DTYPE_BY_NAME.get(dtype)!.bytes;
    if (bytes.length !== want) throw usageError('input', `${field}: data has ${bytes.length} bytes, shape ${JSON.stringify(o.shape)} of ${dtype} needs ${want}`, 'check shape and dtype');
    return { name, dtype, shape: o.shape as number[], data: bytes };
  }
  if (o.values === undefined) throw usageError('input', `${field} has neither "values" nor "data"`, 'e.g. {"name":"input","dtype":"float32","shape":[1,4],"values":[1,2,3,4]}');
  const flat: number[] = [];
  const nested: number[] = [];
  flatten(o.values, nested, 0, flat, field);
  const shape = Array.isArray(o.shape) ? (o.shape as number[]) : nested;
  if (elementCount(shape) !== flat.length) throw usageError('input', `${field}: ${flat.length} values do not fill shape ${JSON.stringify(shape)}`, 'make the shape match the number of values');
  return tensorFrom(name, ARRAYS[dtype](flat) as Parameters<typeof tensorFrom>[1], shape);
}

export function toWire(t: Tensor): WireTensorJson {
  return { name: t.name, dtype: t.dtype, shape: t.shape, data: Buffer.from(t.data).toString('base64') };
}

export function fromWire(t: WireTensorJson): Tensor {
  return { name: t.name, dtype: t.dtype, shape: t.shape, data: new Uint8Array(Buffer.from(t.data, 'base64')) };
}

/** Plain numbers for printing and --json (int64 as numbers: outputs here are small). */
export function valuesOf(t: Tensor): number[] {
  return Array.from(tensorValues(t) as ArrayLike<number | bigint>, (v) => Number(v));
}
