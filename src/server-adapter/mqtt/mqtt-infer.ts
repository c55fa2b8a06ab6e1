import { EparaError, MqttError } from '../../errors.js';
import { DEVICE_ID_PART } from '../../protocol/constants.js';
import type { Tensor } from '../../protocol/index.js';
import type { InferResult } from '../handlers/infer.js';
import { tensorFromJson, tensorToJson, type TensorJson } from '../http-tensor.js';

/**
 * Inference over MQTT: a request on `<prefix>/infer/<service>/request` carries the JSON body of
 * POST /infer without `service` (the topic names it): `{ inputs: [{ name, dtype, shape, data:
 * base64 }], deadlineMs?, deviceId?, id? }`. The answer is the JSON of POST /infer's answer, or
 * `{ error: { code, reason, hint } }`, published to the request's MQTT 5 response topic with its
 * correlation data (or, from an MQTT 3 client, to `<prefix>/infer/<service>/response` with the
 * request's `id` echoed). Everything that comes in is checked before a device sees it.
 */
export interface InferRequest {
  inputs: Tensor[];
  deadlineMs?: number;
  deviceId?: string;
}

export type InferFn = (service: string, inputs: Tensor[], opts: { deadlineMs?: number; deviceId?: string }) => Promise<InferResult>;

const LIMITS = { tensors: 64, dims: 8, name: 128, dtype: 16 };
const ID_RE = new RegExp(`^${DEVICE_ID_PART}$`);

function bad(reason: string, field: string): MqttError {
  return new MqttError({ code: 'mqtt.bad_request', reason, hint: 'send { "inputs": [{ "name", "dtype", "shape", "data": base64 }], "deadlineMs"? } as JSON (docs/server.md, MQTT bridge)', field });
}

function tensorJson(t: unknown, i: number): TensorJson {
  const f = `inputs[${i}]`;
  if (!t || typeof t !== 'object' || Array.isArray(t)) throw bad(`${f} is not an object`, f);
  const o = t as Record<string, unknown>;
  if (typeof o.name !== 'string' || o.name.length === 0 || o.name.length > LIMITS.name) throw bad(`${f}.name must be a string of 1..${LIMITS.name} characters`, `${f}.name`);
  if (typeof o.dtype !== 'string' || o.dtype.length > LIMITS.dtype) throw bad(`${f}.dtype must be a tensor type name`, `${f}.dtype`);
  if (!Array.isArray(o.shape) || o.shape.length > LIMITS.dims || !o.shape.every((d) => Number.isInteger(d) && d >= 0 && d <= 2 ** 31)) {
    throw bad(`${f}.shape must be at most ${LIMITS.dims} whole numbers 0..2^31`, `${f}.shape`);
  }
  if (typeof o.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(o.data)) throw bad(`${f}.data must be base64`, `${f}.data`);
  return { name: o.name, dtype: o.dtype, shape: o.shape as number[], data: o.data };
}

/** The request, checked; `id` is returned for the MQTT 3 answer. */
export function parseInferRequest(payload: Buffer, maxBytes: number): { request: InferRequest; id?: string | number } {
  if (payload.length > maxBytes) throw new MqttError({ code: 'mqtt.too_large', reason: `the request is ${payload.length} bytes, over ${maxBytes}`, hint: 'send smaller inputs, or raise the bridge maxRequestBytes', details: { maxBytes } });
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    throw bad('the payload is not JSON', 'payload');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('the payload is not a JSON object', 'payload');
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.inputs) || b.inputs.length === 0 || b.inputs.length > LIMITS.tensors) throw bad(`inputs must be 1..${LIMITS.tensors} tensors`, 'inputs');
  const request: InferRequest = { inputs: b.inputs.map((t, i) => tensorFromJson(tensorJson(t, i), i)) };
  if (b.deadlineMs !== undefined) {
    if (!Number.isInteger(b.deadlineMs) || (b.deadlineMs as number) < 1 || (b.deadlineMs as number) > 600_000) throw bad('deadlineMs must be a whole number 1..600000', 'deadlineMs');
    request.deadlineMs = b.deadlineMs as number;
  }
  if (b.deviceId !== undefined) {
    if (typeof b.deviceId !== 'string' || !ID_RE.test(b.deviceId)) throw bad('deviceId is not a device id', 'deviceId');
    request.deviceId = b.deviceId;
  }
  const id = typeof b.id === 'string' && b.id.length <= 128 ? b.id : typeof b.id === 'number' && Number.isFinite(b.id) ? b.id : undefined;
  return id === undefined ? { request } : { request, id };
}

/** Runs one request; never throws: a failure is the `{ error }` answer. */
export async function answerInfer(infer: InferFn, service: string, payload: Buffer, maxBytes: number): Promise<Record<string, unknown>> {
  let id: string | number | undefined;
  try {
    const parsed = parseInferRequest(payload, maxBytes);
    id = parsed.id;
    const opts: { deadlineMs?: number; deviceId?: string } = {};
    if (parsed.request.deadlineMs !== undefined) opts.deadlineMs = parsed.request.deadlineMs;
    if (parsed.request.deviceId !== undefined) opts.deviceId = parsed.request.deviceId;
    const res = await infer(service, parsed.request.inputs, opts);
    return { ...(id !== undefined ? { id } : {}), ...res, outputs: res.outputs.map(tensorToJson) };
  } catch (err) {
    const e = err instanceof EparaError ? err : new EparaError({ code: 'internal', reason: (err as Error)?.message?.split('\n', 1)[0] ?? String(err), hint: 'this is a bug in epara; please report it' });
    return { ...(id !== undefined ? { id } : {}), error: { code: e.code, reason: e.reason, hint: e.hint, ...(e.field ? { field: e.field } : {}) } };
  }
}
