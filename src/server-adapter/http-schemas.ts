import { ARTIFACT_KINDS, CATEGORIES, DEVICE_CLASSES, SERVICE_NAME_MAX, VERSION_MAX } from '../protocol/messages/catalogue.js';
import { DEVICE_ID_MAX, DEVICE_ID_PATTERN } from '../protocol/constants.js';
import { TENSOR_NAME_MAX } from '../protocol/messages/schema.js';
import { DTYPES } from '../protocol/index.js';

/**
 * JSON Schemas of the HTTP API's requests and answers. They are what Fastify validates requests
 * against (Ajv, before a handler runs), what it serialises answers with (only the properties
 * declared here leave the server, so a field added to a record later cannot leak by accident),
 * and what GET /openapi.json publishes. Every string and array that comes in is bounded here
 * (issue 15, defect 6: a 60 MiB device name used to be stored and served back).
 */
export type JsonSchema = Record<string, unknown>;

/**
 * Bounds of what a client may send; docs/server.md lists them. Service, version and tensor names
 * go on to devices, so they take the wire's limits (SPEC §4, spec 1.1: the catalogue's constants, in UTF-8
 * bytes there; counted here in characters, which ASCII names make the same).
 */
export const HTTP_LIMITS = {
  name: 128,
  service: SERVICE_NAME_MAX,
  version: VERSION_MAX,
  tensorName: TENSOR_NAME_MAX,
  event: 64,
  /** Devices one deploy may name. */
  targets: 10_000,
  /** Tensors in one infer request, and dimensions of one tensor. */
  tensors: 64,
  dims: 8,
  /** Largest dimension (and element count) of a tensor. */
  dim: 2 ** 31 - 1,
  metaNames: 64,
  /** Largest JSON body of every route but /infer (which takes http.maxBodyBytes). */
  controlBodyBytes: 2 ** 20,
} as const;

const DEVICE_ID = DEVICE_ID_PATTERN.source;
/** No control characters (they would garble the CLI's tables and the audit log). */
const PRINTABLE = '^[^\\u0000-\\u001f\\u007f]*$';

const str = (maxLength: number, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', minLength: 1, maxLength, pattern: PRINTABLE, ...extra });
const deviceId: JsonSchema = { type: 'string', pattern: DEVICE_ID, maxLength: DEVICE_ID_MAX };
const uint: JsonSchema = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
const obj = (properties: Record<string, JsonSchema>, required: string[] = [], extra: JsonSchema = {}): JsonSchema => ({ type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}), ...extra });
const arrayOf = (items: JsonSchema, maxItems: number, minItems = 0): JsonSchema => ({ type: 'array', items, minItems, maxItems });

export const S = {
  deviceId,
  /** A bounded string of printable characters. */
  str,
  uint,
  obj,
  arrayOf,

  error: obj(
    {
      error: {
        type: 'object',
        required: ['code', 'reason', 'hint'],
        properties: {
          code: { type: 'string' },
          wire: { type: 'integer' },
          reason: { type: 'string' },
          hint: { type: 'string' },
          field: { type: 'string' },
          details: { type: 'object', additionalProperties: true },
        },
      },
    },
    ['error'],
  ),

  /** Tensors as JSON: `data` is base64 of the raw little-endian element bytes. */
  tensor: (maxDataChars: number): JsonSchema =>
    obj(
      {
        name: str(HTTP_LIMITS.tensorName),
        dtype: { type: 'string', enum: DTYPES.map((d) => d.dtype) },
        shape: arrayOf({ type: 'integer', minimum: 0, maximum: HTTP_LIMITS.dim }, HTTP_LIMITS.dims),
        data: { type: 'string', maxLength: maxDataChars, pattern: '^[A-Za-z0-9+/]*={0,2}$' },
      },
      ['name', 'dtype', 'shape', 'data'],
    ),

  meta: obj({
    inputNames: arrayOf(str(HTTP_LIMITS.tensorName), HTTP_LIMITS.metaNames),
    outputNames: arrayOf(str(HTTP_LIMITS.tensorName), HTTP_LIMITS.metaNames),
    inputShape: arrayOf({ type: 'integer', minimum: 0, maximum: HTTP_LIMITS.dim }, HTTP_LIMITS.dims),
    outputShape: arrayOf({ type: 'integer', minimum: 0, maximum: HTTP_LIMITS.dim }, HTTP_LIMITS.dims),
  }),

  deviceClass: { type: 'string', enum: [...DEVICE_CLASSES] },
  kind: { type: 'string', enum: [...ARTIFACT_KINDS] },
  category: { type: 'string', enum: [...CATEGORIES] },
};

const free: JsonSchema = { type: 'object', additionalProperties: true };
const num: JsonSchema = { type: 'number' };
const text: JsonSchema = { type: 'string' };

/** Answers, as the local API returns them (test/server-adapter/http-api-answers-match-the-local-api checks they agree). */
export const R = {
  device: {
    type: 'object',
    properties: {
      id: text,
      name: text,
      deviceClass: text,
      status: text,
      createdAt: num,
      lastSeenAt: num,
      firmware: text,
      caps: free,
      lastRemote: text,
      state: text,
      sessionStartedAt: num,
      lastHeardAt: num,
      remote: text,
      view: {
        type: 'object',
        properties: {
          deviceId: text,
          load: num,
          memFreeKiB: num,
          gpu: num,
          temperatureC: num,
          powerMw: num,
          services: {
            type: 'array',
            items: { type: 'object', properties: { name: text, version: text, status: text, queueLen: num, batch: num, servedPerSec: num, violationRate: num, memKiB: num } },
          },
          rttMs: num,
          linkQuality: num,
          rssiDbm: num,
          uptimeMs: num,
          updatedAt: num,
          reports: num,
        },
      },
      viewStale: { type: 'boolean' },
      protocolVersion: num,
    },
  } as JsonSchema,
  deployment: {
    type: 'object',
    properties: {
      id: num,
      deviceId: text,
      service: text,
      version: text,
      kind: text,
      category: text,
      size: num,
      sha256: text,
      chunkSize: num,
      state: text,
      offset: num,
      errorCode: text,
      activeVersion: text,
      meta: free,
      createdAt: num,
      updatedAt: num,
    },
  } as JsonSchema,
  audit: { type: 'object', properties: { id: num, at: num, event: text, deviceId: text, remote: text, detail: text } } as JsonSchema,
  key: { type: 'object', properties: { id: text, key: text } } as JsonSchema,
  flowStats: {
    type: 'object',
    properties: {
      flowId: num, service: text, targetFps: num, budgetMs: num, offered: num, sent: num, droppedAtGateway: num, onTime: num, late: num, failed: num,
      open: num, batches: num, meanBatch: num, credits: num, attainment: num, achievedFps: num, latencyMs: num, devices: free, errors: free,
    },
  } as JsonSchema,
  undeploy: { type: 'array', items: { type: 'object', properties: { deviceId: text, ok: { type: 'boolean' }, code: text, cancelled: { type: 'boolean' } } } } as JsonSchema,
  tensorOut: { type: 'object', properties: { name: text, dtype: text, shape: { type: 'array', items: num }, data: text } } as JsonSchema,
};
