import type { Readable } from 'node:stream';
import { EparaError } from '../errors.js';
import { DEVICE_ID_PART } from '../protocol/constants.js';
import type { DeploymentState } from '../device-mgmt/registry/store.js';
import { DEPLOYMENT_TRANSITIONS } from '../device-mgmt/deployment/state-machine.js';
import { httpError } from './http-errors.js';
import { deployOptionsFromHttp } from './http-deploy-body.js';
import { eventsRoute } from './http-events.js';
import { HTTP_LIMITS, R, S, type JsonSchema } from './http-schemas.js';
import { tensorFromJson, tensorToJson, type TensorJson } from './http-tensor.js';
import type { EparaServer } from './server.js';
import { DECLARATION_SCHEMA, ROUTE_SCHEMA, schedulerRoutes } from './http-scheduler-routes.js';

/**
 * The HTTP API as a table: one entry per route with its schemas and its handler. http-api.ts
 * registers the entries with Fastify; http-openapi.ts publishes the same table as OpenAPI, so
 * the documentation cannot drift from what is validated.
 */
export interface RouteRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body stream (routes with `raw: true`). */
  stream?: Readable;
}

export interface RouteAnswer {
  status: number;
  /** JSON, or a Readable streamed as is (GET /events). */
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  summary: string;
  /** Default true: needs `Authorization: Bearer <token>`. */
  auth?: boolean;
  /** The body is the raw request stream (application/octet-stream), not parsed JSON. */
  raw?: boolean;
  /** Largest JSON body; defaults to HTTP_LIMITS.controlBodyBytes. */
  bodyLimit?: number;
  /** An absent body counts as `{}` (routes whose body fields are all optional). */
  bodyOptional?: boolean;
  /** Runs before schema validation (the path refusal of POST /deployments). */
  preValidate?: (body: unknown) => void;
  params?: JsonSchema;
  query?: JsonSchema;
  body?: JsonSchema;
  /** A valid body: documentation, and the base the schema-walking test breaks one field of. */
  example?: unknown;
  response: Record<string, JsonSchema>;
  handler: (server: EparaServer, req: RouteRequest) => RouteAnswer | Promise<RouteAnswer>;
}

export interface RouteOptions {
  metrics: boolean;
  maxBodyBytes: number;
  maxArtifactBytes: number;
  openapi: () => unknown;
}

const ok = (body: unknown, status = 200): RouteAnswer => ({ status, body });
/** Longest frame flow one POST /flows may run (frames ÷ fps), so an HTTP call cannot hang for hours. */
const MAX_FLOW_SEC = 600;
const idParams = S.obj({ id: S.deviceId }, ['id']);
// In the URL, so within Node's 16 KiB header limit: about 120 ids.
const idList = { type: 'string', maxLength: 8192, pattern: `^${DEVICE_ID_PART}(,${DEVICE_ID_PART})*$` };
const HEX64 = '^[0-9a-f]{64}$';
const STATES = Object.keys(DEPLOYMENT_TRANSITIONS).join('|');
const EXAMPLE_SHA = 'sha256:' + 'a'.repeat(64);

export function httpRoutes(o: RouteOptions): RouteSpec[] {
  const routes: RouteSpec[] = [
    {
      method: 'GET',
      url: '/healthz',
      summary: 'liveness; the one route without a token',
      auth: false,
      response: { 200: S.obj({ ok: { type: 'boolean' } }) },
      handler: () => ok({ ok: true }),
    },
    {
      method: 'GET',
      url: '/openapi.json',
      summary: 'this API as an OpenAPI 3.1 document, generated from the route schemas',
      response: { 200: { type: 'object', additionalProperties: true } },
      handler: () => ok(o.openapi()),
    },
    {
      method: 'GET',
      url: '/devices',
      summary: 'every device: registry record, session state and last STATE view',
      response: { 200: { type: 'array', items: R.device } },
      handler: (s) => ok(s.devices()),
    },
    {
      method: 'GET',
      url: '/devices/:id',
      summary: 'one device',
      params: idParams,
      response: { 200: R.device },
      handler: (s, r) => {
        const d = s.device(r.params.id!);
        if (!d) throw httpError('http.not_found', `no device ${r.params.id}`, 'list devices with `epara devices`');
        return ok(d);
      },
    },
    {
      method: 'POST',
      url: '/devices',
      summary: 'provision a device; answers its key once',
      body: S.obj({ id: S.deviceId, deviceClass: S.deviceClass, name: S.str(HTTP_LIMITS.name), key: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } }, ['id', 'deviceClass']),
      example: { id: 'jetson-01', deviceClass: 'embedded-gpu', name: 'bench jetson' },
      response: { 201: R.key },
      handler: (s, r) => ok(s.provision(r.body as Parameters<EparaServer['provision']>[0]), 201),
    },
    {
      method: 'POST',
      url: '/devices/:id/approve',
      summary: 'approve a pending (open-enrolment) device; answers its key once',
      params: idParams,
      bodyOptional: true,
      body: S.obj({ key: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } }),
      example: {},
      response: { 200: R.key },
      handler: (s, r) => {
        const key = (r.body as { key?: string }).key;
        return ok(s.approve(r.params.id!, key !== undefined ? { key } : {}));
      },
    },
    {
      method: 'POST',
      url: '/devices/:id/revoke',
      summary: 'revoke a device: its session ends now',
      params: idParams,
      bodyOptional: true,
      body: S.obj({}),
      example: {},
      response: { 200: S.obj({ id: { type: 'string' }, status: { type: 'string' } }) },
      handler: (s, r) => {
        s.revoke(r.params.id!);
        return ok({ id: r.params.id, status: 'revoked' });
      },
    },
    {
      method: 'GET',
      url: '/deployments',
      summary: 'deployment records, filtered',
      query: S.obj({
        deviceId: S.deviceId,
        service: S.str(HTTP_LIMITS.service),
        state: { type: 'string', maxLength: 200, pattern: `^(${STATES})(,(${STATES}))*$` },
      }),
      response: { 200: { type: 'array', items: R.deployment } },
      handler: (s, r) => {
        const q = r.query as { deviceId?: string; service?: string; state?: string };
        const filter: { deviceId?: string; service?: string; states?: DeploymentState[] } = {};
        if (q.deviceId) filter.deviceId = q.deviceId;
        if (q.service) filter.service = q.service;
        if (q.state) filter.states = q.state.split(',') as DeploymentState[];
        return ok(s.deployments(filter));
      },
    },
    {
      method: 'GET',
      url: '/deployments/:id',
      summary: 'one deployment record',
      params: S.obj({ id: { type: 'integer', minimum: 1, maximum: 2 ** 32 - 1 } }, ['id']),
      response: { 200: R.deployment },
      handler: (s, r) => {
        const d = s.deployment(Number(r.params.id));
        if (!d) throw httpError('http.not_found', `no deployment ${r.params.id}`, 'list deployments with `epara deployments`');
        return ok(d);
      },
    },
    {
      method: 'PUT',
      url: '/artifacts',
      summary: 'upload an artifact (raw bytes, application/octet-stream); answers its digest for POST /deployments',
      raw: true,
      response: { 201: S.obj({ artifact: { type: 'string' }, sha256: { type: 'string' }, size: { type: 'integer' } }) },
      handler: async (s, r) => {
        if (!r.stream) throw httpError('http.unsupported_media_type', 'PUT /artifacts takes the raw bytes as application/octet-stream', 'send the file as the body with Content-Type: application/octet-stream, as `epara deploy <file>` does');
        const declared = Number(r.headers['content-length']);
        if (Number.isFinite(declared) && declared > o.maxArtifactBytes) {
          r.stream.resume();
          throw httpError('http.too_large', `the artifact (${declared} bytes) exceeds ${o.maxArtifactBytes} bytes`, 'deploy a smaller artifact or raise http.maxArtifactBytes of `epara serve`', { field: 'artifact', details: { maxBytes: o.maxArtifactBytes } });
        }
        const { sha256, size } = await s.storeArtifact(r.stream, o.maxArtifactBytes);
        return ok({ artifact: `sha256:${sha256}`, sha256, size }, 201);
      },
    },
    {
      method: 'POST',
      url: '/deployments',
      summary: 'deploy an uploaded artifact (by digest) to devices; never takes a file path',
      preValidate: (body) => {
        if (body && typeof body === 'object' && !Array.isArray(body)) deployOptionsFromHttp(body as Record<string, unknown>);
      },
      body: S.obj(
        {
          artifact: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
          sha256: { type: 'string', pattern: HEX64 },
          service: S.str(HTTP_LIMITS.service),
          version: S.str(HTTP_LIMITS.version),
          kind: S.kind,
          category: S.category,
          to: { anyOf: [S.arrayOf(S.deviceId, HTTP_LIMITS.targets, 1), { type: 'string', enum: [...(S.deviceClass.enum as string[]), 'all'] }] },
          meta: S.meta,
          wait: { type: 'boolean' },
          timeoutMs: { type: 'integer', minimum: 1, maximum: 86_400_000 },
          // The service's declaration for the scheduler; ranges are checked by service-catalogue.ts (as for the CLI).
          ...DECLARATION_SCHEMA,
        },
        ['service', 'version', 'kind', 'category', 'to'],
        { anyOf: [{ required: ['artifact'] }, { required: ['sha256'] }] },
      ),
      example: { artifact: EXAMPLE_SHA, service: 'classifier', version: '1.0.0', kind: 'onnx', category: 'latency-single', to: ['jetson-01'], wait: false },
      response: { 202: { type: 'array', items: R.deployment } },
      handler: async (s, r) => ok(await s.deploy(deployOptionsFromHttp(r.body as Record<string, unknown>)), 202),
    },
    {
      method: 'DELETE',
      url: '/services/:name',
      summary: 'undeploy a service (from every device running it, or `to`)',
      params: S.obj({ name: S.str(HTTP_LIMITS.service) }, ['name']),
      query: S.obj({ to: idList }),
      response: { 200: R.undeploy },
      handler: async (s, r) => ok(await s.undeploy(r.params.name!, (r.query as { to?: string }).to?.split(','))),
    },
    {
      method: 'POST',
      url: '/infer',
      summary: 'run an inference on the best device serving the service',
      bodyLimit: o.maxBodyBytes,
      body: S.obj(
        {
          service: S.str(HTTP_LIMITS.service),
          inputs: S.arrayOf(S.tensor(o.maxBodyBytes), HTTP_LIMITS.tensors),
          deadlineMs: { type: 'integer', minimum: 1, maximum: 600_000 },
          deviceId: S.deviceId,
        },
        ['service', 'inputs'],
      ),
      example: { service: 'classifier', inputs: [{ name: 'input', dtype: 'float32', shape: [1, 2], data: 'AAAAPwAAAD8=' }], deadlineMs: 1000 },
      response: {
        200: {
          type: 'object',
          properties: { outputs: { type: 'array', items: R.tensorOut }, deviceId: { type: 'string' }, queueUs: { type: 'number' }, computeUs: { type: 'number' }, route: ROUTE_SCHEMA },
        },
      },
      handler: async (s, r) => {
        const body = r.body as { service: string; inputs: TensorJson[]; deadlineMs?: number; deviceId?: string };
        const inputs = body.inputs.map(tensorFromJson);
        const opts: { deadlineMs?: number; deviceId?: string } = {};
        if (body.deadlineMs !== undefined) opts.deadlineMs = body.deadlineMs;
        if (body.deviceId !== undefined) opts.deviceId = body.deviceId;
        try {
          const res = await s.infer(body.service, inputs, opts);
          return ok({ ...res, outputs: res.outputs.map(tensorToJson) });
        } catch (err) {
          if (err instanceof EparaError && err.code === 'frame.oversize') {
            throw new EparaError({ code: 'infer.too_large', reason: `the inputs do not fit in one frame to the device (${err.reason})`, hint: 'send smaller inputs, or raise maxFrame on the device and the server (64..65535)', field: 'inputs', details: err.details });
          }
          throw err;
        }
      },
    },
    {
      method: 'POST',
      url: '/flows',
      summary: 'stream a frame flow: the same frame `frames` times at `fps`, under credits, batched, late frames dropped at the gateway; answers the flow\'s attainment',
      bodyLimit: o.maxBodyBytes,
      body: S.obj(
        {
          service: S.str(HTTP_LIMITS.service),
          inputs: S.arrayOf(S.tensor(o.maxBodyBytes), HTTP_LIMITS.tensors),
          fps: { type: 'number', minimum: 0.01, maximum: 10_000 },
          frames: { type: 'integer', minimum: 1, maximum: 100_000 },
          budgetMs: { type: 'integer', minimum: 1, maximum: 600_000 },
          maxBatch: { type: 'integer', minimum: 1, maximum: 256 },
          deviceId: S.deviceId,
        },
        ['service', 'inputs', 'fps', 'frames'],
      ),
      example: { service: 'segmentation', inputs: [{ name: 'image', dtype: 'float32', shape: [1, 1, 8, 8], data: 'AAAA…' }], fps: 10, frames: 50 },
      response: { 200: R.flowStats },
      handler: async (s, r) => {
        const body = r.body as { service: string; inputs: TensorJson[]; fps: number; frames: number; budgetMs?: number; maxBatch?: number; deviceId?: string };
        if (body.frames / body.fps > MAX_FLOW_SEC) {
          throw new EparaError({ code: 'config.range', reason: `a flow of ${body.frames} frames at ${body.fps} fps lasts ${Math.round(body.frames / body.fps)} s, over the ${MAX_FLOW_SEC} s an HTTP call may run`, hint: 'send fewer frames or raise --fps', field: 'frames' });
        }
        const inputs = body.inputs.map(tensorFromJson);
        const flow = s.openFlow(body.service, { fps: body.fps, ...(body.budgetMs !== undefined ? { budgetMs: body.budgetMs } : {}), ...(body.maxBatch !== undefined ? { maxBatch: body.maxBatch } : {}), ...(body.deviceId !== undefined ? { deviceId: body.deviceId } : {}) });
        const devices: Record<string, number> = {};
        const errors: Record<string, number> = {};
        flow.on('frame', (f) => {
          if (f.deviceId) devices[f.deviceId] = (devices[f.deviceId] ?? 0) + 1;
          if (f.error) errors[f.error.code] = (errors[f.error.code] ?? 0) + 1;
        });
        try {
          await flow.run(body.frames, () => inputs);
        } finally {
          await flow.close();
        }
        return ok({ flowId: flow.id, service: body.service, ...flow.stats(), devices, errors });
      },
    },
    {
      method: 'GET',
      url: '/audit',
      summary: 'the audit log, newest first',
      query: S.obj({ deviceId: S.deviceId, event: S.str(HTTP_LIMITS.event), limit: { type: 'integer', minimum: 1, maximum: 100_000 } }),
      response: { 200: { type: 'array', items: R.audit } },
      handler: (s, r) => {
        const q = r.query as { deviceId?: string; event?: string; limit?: number };
        const a: { deviceId?: string; event?: string; limit?: number } = {};
        if (q.deviceId) a.deviceId = q.deviceId;
        if (q.event) a.event = q.event;
        if (q.limit !== undefined) a.limit = q.limit;
        return ok(s.auditLog(a));
      },
    },
    eventsRoute(),
  ];
  routes.push(...schedulerRoutes());
  if (o.metrics) {
    routes.push({
      method: 'GET',
      url: '/metrics',
      summary: 'Prometheus metrics (text exposition format)',
      response: { 200: { type: 'string' } },
      handler: async (s) => ({ status: 200, body: await s.metrics.text(), contentType: s.metrics.contentType }),
    });
  }
  return routes;
}
