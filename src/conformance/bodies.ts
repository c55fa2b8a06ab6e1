/**
 * Hand-made message bodies for what the codec refuses to encode on purpose: a tensor whose shape
 * does not match its data, a PING longer than 64 bytes, a frame with a byte-exact length.
 */
import { CborMap, CborTagged, encodeCbor } from '../protocol/cbor-subset.js';
import { DTYPE_BY_NAME, type Tensor } from '../protocol/tensor.js';

/** INFER_REQUEST with one tensor whose `shape` is given separately from its data. */
export function inferBody(requestId: number, service: string, name: string, dtype: Tensor['dtype'], shape: number[], data: Uint8Array): Uint8Array {
  const tag = DTYPE_BY_NAME.get(dtype)!.tag;
  const t = new CborMap().set(0, name).set(1, shape).set(2, new CborTagged(tag, data));
  return encodeCbor(new CborMap().set(0, requestId).set(1, service).set(2, [t]));
}

/** PING body with `data` of any length (the spec allows ≤ 64). */
export function pingBody(data: Uint8Array): Uint8Array {
  return encodeCbor(new CborMap().set(0, data));
}
