import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, EparaError } from '../errors.js';
import { resolveNumber } from '../options.js';
import { DTYPES, type Tensor, type TensorDType } from '../protocol/index.js';
import type { DeploymentState } from '../device-mgmt/registry/store.js';
import type { EparaServer } from './server.js';
import { deployOptionsFromHttp } from './http-deploy-body.js';

/**
 * The HTTP JSON API (node:http, no framework): list/inspect devices and deployments, provision,
 * approve, revoke, deploy, undeploy, infer, audit log, Prometheus /metrics. Off unless
 * configured; every route except /healthz needs `Authorization: Bearer <token>`.
 *
 * Tensors travel as { name, dtype, shape, data } with `data` base64 of the raw little-endian bytes.
 */
export interface HttpApiOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Required: at least 16 characters. */
  token: string;
  /** Serve /metrics (default true). */
  metrics?: boolean;
  /** Largest JSON request body. Default 64 MiB. */
  maxBodyBytes?: number;
  /** Largest artifact `PUT /artifacts` takes (streamed to disk, never held in memory). Default 4 GiB. */
  maxArtifactBytes?: number;
}

export interface HttpApi {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

const STATUS_BY_CODE: Array<[RegExp, number]> = [
  [/^config\./, 400],
  [/^registry\.duplicate$/, 409],
  [/^registry\.(unknown_device|not_pending)$/, 404],
  [/^deploy\.(unknown|unknown_device)$/, 404],
  [/^deploy\.(artifact_missing|artifact_empty)$/, 400],
  [/^deploy\.artifact_unknown$/, 404],
  [/^http\.(path_not_accepted|inline_artifact_not_accepted|artifact_required)$/, 400],
  [/^http\.unauthorized$/, 401],
  [/^http\.not_found$/, 404],
  [/^http\.too_large$/, 413],
  [/^infer\.no_device$/, 503],
  [/^infer\.(deadline)$/, 504],
  [/^infer\.(bad_input|unknown_service)$/, 400],
];

function statusOf(err: EparaError): number {
  for (const [re, status] of STATUS_BY_CODE) if (re.test(err.code)) return status;
  return 500;
}

function httpError(code: string, reason: string, hint: string): EparaError {
  return new EparaError({ code, reason, hint });
}

function sha(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function tensorFromJson(t: unknown, i: number): Tensor {
  const o = t as { name?: unknown; dtype?: unknown; shape?: unknown; data?: unknown };
  const field = `inputs[${i}]`;
  if (!o || typeof o.name !== 'string' || typeof o.data !== 'string' || !Array.isArray(o.shape) || !o.shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new ConfigError({ code: 'config.tensor', reason: `${field} must be { name, dtype, shape: int[], data: base64 }`, hint: 'see docs for the tensor JSON form', field });
  }
  if (!DTYPES.some((d) => d.dtype === o.dtype)) {
    throw new ConfigError({ code: 'config.tensor', reason: `${field}.dtype ${JSON.stringify(o.dtype)} is not a tensor type`, hint: `use one of ${DTYPES.map((d) => d.dtype).join(', ')}`, field });
  }
  return { name: o.name, dtype: o.dtype as TensorDType, shape: o.shape as number[], data: new Uint8Array(Buffer.from(o.data, 'base64')) };
}

function tensorToJson(t: Tensor): Record<string, unknown> {
  return { name: t.name, dtype: t.dtype, shape: t.shape, data: Buffer.from(t.data).toString('base64') };
}

async function readBody(req: IncomingMessage, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > max) throw httpError('http.too_large', `request body exceeds ${max} bytes`, 'send a smaller body (artifacts go to PUT /artifacts, as `epara deploy <file>` does)');
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ConfigError({ code: 'config.json', reason: 'request body is not valid JSON', hint: 'send Content-Type: application/json with a JSON object' });
  }
}

export async function startHttpApi(server: EparaServer, opts: HttpApiOptions): Promise<HttpApi> {
  if (!opts || typeof opts.token !== 'string' || opts.token.length < 16) {
    throw new ConfigError({ code: 'config.http_token', reason: 'the HTTP API needs a bearer token of at least 16 characters', hint: 'generate one: openssl rand -hex 24', field: 'http.token' });
  }
  const port = resolveNumber('http.port', opts.port, { default: 0, min: 0, max: 65535, integer: true });
  const maxBody = resolveNumber('http.maxBodyBytes', opts.maxBodyBytes, { default: 64 * 1024 * 1024, min: 1024, max: 2 ** 31, integer: true, unit: 'bytes' });
  const maxArtifact = resolveNumber('http.maxArtifactBytes', opts.maxArtifactBytes, { default: 4 * 2 ** 30, min: 1024, max: 2 ** 40, integer: true, unit: 'bytes' });
  const tokenHash = sha(opts.token);
  const metricsOn = opts.metrics !== false;

  const authorised = (req: IncomingMessage): boolean => {
    const h = req.headers.authorization;
    if (typeof h !== 'string' || !h.startsWith('Bearer ')) return false;
    // Compare hashes so the comparison is constant-time whatever the length given.
    return timingSafeEqual(sha(h.slice(7)), tokenHash);
  };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/healthz') return send(res, 200, { ok: true });
    if (!authorised(req)) {
      res.setHeader('www-authenticate', 'Bearer');
      throw httpError('http.unauthorized', 'missing or wrong bearer token', 'send Authorization: Bearer <token> as configured in http.token');
    }
    const [a, b, c] = parts;
    if (method === 'GET' && a === 'metrics' && !b && metricsOn) {
      const text = await server.metrics.text();
      res.writeHead(200, { 'content-type': server.metrics.contentType });
      res.end(text);
      return;
    }
    if (a === 'devices') {
      if (method === 'GET' && !b) return send(res, 200, server.devices());
      if (method === 'GET' && b && !c) {
        const d = server.device(b);
        if (!d) throw httpError('http.not_found', `no device ${b}`, 'list devices with GET /devices');
        return send(res, 200, d);
      }
      if (method === 'POST' && !b) {
        const body = (await readBody(req, maxBody)) as { id?: string; name?: string; deviceClass?: string; key?: string };
        return send(res, 201, server.provision(body as Parameters<EparaServer['provision']>[0]));
      }
      if (method === 'POST' && b && c === 'approve') {
        const body = (await readBody(req, maxBody)) as { key?: string };
        return send(res, 200, server.approve(b, body.key !== undefined ? { key: body.key } : {}));
      }
      if (method === 'POST' && b && c === 'revoke') {
        server.revoke(b);
        return send(res, 200, { id: b, status: 'revoked' });
      }
    }
    if (a === 'deployments') {
      if (method === 'GET' && !b) {
        const states = url.searchParams.get('state')?.split(',') as DeploymentState[] | undefined;
        const filter: { deviceId?: string; service?: string; states?: DeploymentState[] } = {};
        const dev = url.searchParams.get('deviceId');
        const svc = url.searchParams.get('service');
        if (dev) filter.deviceId = dev;
        if (svc) filter.service = svc;
        if (states) filter.states = states;
        return send(res, 200, server.deployments(filter));
      }
      if (method === 'GET' && b) {
        const d = server.deployment(Number(b));
        if (!d) throw httpError('http.not_found', `no deployment ${b}`, 'list deployments with GET /deployments');
        return send(res, 200, d);
      }
      if (method === 'POST' && !b) {
        const body = (await readBody(req, maxBody)) as Record<string, unknown>;
        return send(res, 202, await server.deploy(deployOptionsFromHttp(body)));
      }
    }
    if (a === 'artifacts' && method === 'PUT' && !b) {
      const { sha256, size } = await server.storeArtifact(req, maxArtifact);
      return send(res, 201, { artifact: `sha256:${sha256}`, sha256, size });
    }
    if (a === 'services' && b && method === 'DELETE' && !c) {
      const to = url.searchParams.get('to')?.split(',');
      return send(res, 200, await server.undeploy(b, to));
    }
    if (a === 'infer' && method === 'POST' && !b) {
      const body = (await readBody(req, maxBody)) as { service?: unknown; inputs?: unknown; deadlineMs?: unknown; deviceId?: unknown };
      if (typeof body.service !== 'string' || !Array.isArray(body.inputs)) {
        throw new ConfigError({ code: 'config.infer', reason: 'infer needs { service: string, inputs: tensor[] }', hint: 'see docs for the tensor JSON form' });
      }
      const inputs = body.inputs.map(tensorFromJson);
      const o: { deadlineMs?: number; deviceId?: string } = {};
      if (body.deadlineMs !== undefined) o.deadlineMs = body.deadlineMs as number;
      if (typeof body.deviceId === 'string') o.deviceId = body.deviceId;
      const r = await server.infer(body.service, inputs, o);
      return send(res, 200, { ...r, outputs: r.outputs.map(tensorToJson) });
    }
    if (a === 'audit' && method === 'GET' && !b) {
      const q: { deviceId?: string; event?: string; limit?: number } = {};
      const dev = url.searchParams.get('deviceId');
      const ev = url.searchParams.get('event');
      const lim = url.searchParams.get('limit');
      if (dev) q.deviceId = dev;
      if (ev) q.event = ev;
      if (lim) q.limit = Number(lim);
      return send(res, 200, server.auditLog(q));
    }
    throw httpError('http.not_found', `no route ${method} ${url.pathname}`, 'see docs for the HTTP API routes');
  };

  const http: Server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const e = err instanceof EparaError ? err : new EparaError({ code: 'internal', reason: (err as Error)?.message?.split('\n', 1)[0] ?? String(err), hint: 'this is a bug in epara; please report it' });
      if (!res.headersSent) send(res, statusOf(e), { error: e.toJSON() });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ConfigError({ code: 'config.http_listen', reason: `cannot listen on ${opts.host ?? '127.0.0.1'}:${port}: ${err.code ?? err.message}`, hint: 'pick another http.port', cause: err })),
    );
    http.listen(port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = http.address() as AddressInfo;
  return {
    address: { host: addr.address, port: addr.port },
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
