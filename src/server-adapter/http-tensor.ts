import { ConfigError } from '../errors.js';
import { DTYPE_BY_NAME, type Tensor, type TensorDType } from '../protocol/tensor.js';

/**
 * Tensors in the HTTP API's JSON: `{ name, dtype, shape, data }`, `data` base64 of the raw
 * little-endian element bytes. The schema (http-schemas.ts) has already checked the types and
 * bounds; this checks what a schema cannot: that the data holds exactly shape-product elements
 * (issue 15, defect 7: a mismatch reached the device, or the codec threw and the client got 500).
 */
export interface TensorJson {
  name: string;
  dtype: string;
  shape: number[];
  data: string;
}

export function tensorFromJson(t: TensorJson, i: number): Tensor {
  const field = `inputs[${i}]`;
  const info = DTYPE_BY_NAME.get(t.dtype);
  if (!info) throw new ConfigError({ code: 'config.tensor', reason: `${field}.dtype ${JSON.stringify(t.dtype)} is not a tensor type`, hint: `use one of ${[...DTYPE_BY_NAME.keys()].join(', ')} (see \`epara infer --help\`)`, field: `${field}.dtype` });
  // Decoded size from the base64 length, before decoding: a huge shape must not allocate.
  const pad = t.data.endsWith('==') ? 2 : t.data.endsWith('=') ? 1 : 0;
  if (t.data.length % 4 !== 0) throw bad(field, `${field}.data is not base64 (its length ${t.data.length} is not a multiple of 4)`);
  const bytes = (t.data.length / 4) * 3 - pad;
  let elements = 1;
  for (const d of t.shape) elements *= d;
  if (elements * info.bytes !== bytes) {
    throw bad(field, `${field} has shape [${t.shape.join(', ')}] of ${t.dtype}: ${elements * info.bytes} bytes, but its data is ${bytes} bytes`);
  }
  return { name: t.name, dtype: t.dtype as TensorDType, shape: t.shape, data: new Uint8Array(Buffer.from(t.data, 'base64')) };
}

function bad(field: string, reason: string): ConfigError {
  return new ConfigError({ code: 'config.tensor', reason, hint: 'data must be base64 of product(shape) × element size bytes (see `epara infer --help`)', field });
}

export function tensorToJson(t: Tensor): TensorJson {
  return { name: t.name, dtype: t.dtype, shape: t.shape, data: Buffer.from(t.data).toString('base64') };
}
