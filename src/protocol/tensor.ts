/**
 * Tensors on the wire (SPEC §4.1): `{0: name, 1: shape, 2: #6.<tag>(bstr)}`, little-endian element
 * bytes tagged with their RFC 8746 typed-array tag. `data` stays raw bytes so a frame can be decoded
 * without copying or re-aligning; `tensorValues` gives a typed-array view of a copy when needed.
 */
import { protocolError } from './error-codes.js';

export type TensorDType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'int64' | 'float32' | 'float64';

export interface Tensor {
  name: string;
  dtype: TensorDType;
  shape: number[];
  /** Raw little-endian element bytes; length = product(shape) * bytes per element. */
  data: Uint8Array;
}

export interface DTypeInfo {
  dtype: TensorDType;
  /** RFC 8746 tag (little-endian variant). */
  tag: number;
  bytes: number;
}

export const DTYPES: readonly DTypeInfo[] = [
  { dtype: 'uint8', tag: 64, bytes: 1 },
  { dtype: 'int8', tag: 72, bytes: 1 },
  { dtype: 'uint16', tag: 69, bytes: 2 },
  { dtype: 'int16', tag: 77, bytes: 2 },
  { dtype: 'uint32', tag: 70, bytes: 4 },
  { dtype: 'int32', tag: 78, bytes: 4 },
  { dtype: 'int64', tag: 79, bytes: 8 },
  { dtype: 'float32', tag: 85, bytes: 4 },
  { dtype: 'float64', tag: 86, bytes: 8 },
];

export const DTYPE_BY_NAME: ReadonlyMap<string, DTypeInfo> = new Map(DTYPES.map((d) => [d.dtype, d]));
export const DTYPE_BY_TAG: ReadonlyMap<number, DTypeInfo> = new Map(DTYPES.map((d) => [d.tag, d]));

type AnyTypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

const CTOR: Record<TensorDType, { new (b: ArrayBuffer): AnyTypedArray }> = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  int64: BigInt64Array,
  float32: Float32Array,
  float64: Float64Array,
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function dtypeOf(a: AnyTypedArray): TensorDType | undefined {
  for (const [name, ctor] of Object.entries(CTOR)) if (a.constructor === ctor) return name as TensorDType;
  return undefined;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A tensor holding a little-endian copy of `values`; `shape` defaults to `[values.length]`. */
export function tensorFrom(name: string, values: AnyTypedArray, shape: number[] = [values.length]): Tensor {
  const dtype = dtypeOf(values);
  if (!dtype) {
    throw protocolError('msg.schema', {
      reason: `tensor ${name}: unsupported array type ${values.constructor.name}`,
      hint: 'use one of Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, BigInt64Array, Float32Array, Float64Array',
      field: 'data',
    });
  }
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0) || elementCount(shape) !== values.length) {
    throw protocolError('msg.schema', {
      reason: `tensor ${name}: shape [${shape.join(', ')}] does not hold ${values.length} elements`,
      hint: 'the product of the shape must equal the number of values',
      field: 'shape',
    });
  }
  const data = new Uint8Array(values.byteLength);
  data.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  if (!LITTLE_ENDIAN) swapInPlace(data, DTYPE_BY_NAME.get(dtype)!.bytes);
  return { name, dtype, shape: [...shape], data };
}

/** A typed-array copy of the tensor's elements in host order. */
export function tensorValues(t: Tensor): AnyTypedArray {
  const info = DTYPE_BY_NAME.get(t.dtype);
  if (!info || t.data.length !== elementCount(t.shape) * info.bytes) {
    throw protocolError('msg.schema', {
      reason: `tensor ${t.name}: ${t.data.length} data bytes do not match ${t.dtype}[${t.shape.join(', ')}]`,
      hint: 'data length must be product(shape) times the element size',
      field: 'data',
    });
  }
  const copy = new Uint8Array(t.data.length);
  copy.set(t.data);
  if (!LITTLE_ENDIAN) swapInPlace(copy, info.bytes);
  return new CTOR[t.dtype](copy.buffer);
}

function swapInPlace(b: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < b.length; i += width) b.subarray(i, i + width).reverse();
}
