import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import Ajv from 'ajv';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { AuditEntry } from '../device-mgmt/registry/store.js';
import { ConfigError, EparaError } from '../errors.js';
import { resolveNumbers } from '../options.js';
import { clientErrorResponse, fromFrameworkError, httpError, schemaError, statusOf } from './http-errors.js';
import { CLEAR_COOKIE, sessionCookieValue, sessionFromCookieHeader, setCookieHeader, validSession } from './console-session.js';
import { openApiDocument } from './http-openapi.js';
import { httpRoutes, type RouteSpec } from './http-routes.js';
import { HTTP_LIMITS } from './http-schemas.js';
import type { EparaServer } from './server.js';

/**
 * The HTTP JSON API, on Fastify: the routes of http-routes.ts with their JSON schemas (Ajv
 * validates every request before a handler runs, answers are serialised from the schemas),
 * body limits per route, header / request / keep-alive timeouts, and GET /openapi.json built from
 * the same table. Off unless configured; every route except /healthz needs
 * `Authorization: Bearer <token>`, and every refusal is audited (`http.unauthorized`).
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
  /** Largest POST /infer body (tensors travel base64 in it). Default 16 MiB. Other routes take at most 1 MiB. */
  maxBodyBytes?: number;
  /** Largest artifact `PUT /artifacts` takes (streamed to disk, never held in memory). Default 4 GiB. */
  maxArtifactBytes?: number;
  /** A connection must send its complete request headers within this time. Default 10 s. */
  headersTimeoutMs?: number;
  /** A whole request (headers and body: an artifact upload too) must arrive within this time. Default 10 min. */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this time. Default 5 s. */
  keepAliveTimeoutMs?: number;
}

export interface HttpApi {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

export const HTTP_SPECS = {
  port: { default: 0, min: 0, max: 65535, integer: true },
  maxBodyBytes: { default: 16 * 2 ** 20, min: 1024, max: 2 ** 30, integer: true, unit: 'bytes' },
  maxArtifactBytes: { default: 4 * 2 ** 30, min: 1024, max: 2 ** 40, integer: true, unit: 'bytes' },
  headersTimeoutMs: { default: 10_000, min: 100, max: 600_000, integer: true, unit: 'ms' },
  requestTimeoutMs: { default: 600_000, min: 1000, max: 86_400_000, integer: true, unit: 'ms' },
  keepAliveTimeoutMs: { default: 5000, min: 100, max: 600_000, integer: true, unit: 'ms' },
};

type Audit = (e: Omit<AuditEntry, 'at'>) => void;

function sha(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * Two Ajv instances: bodies are taken as sent (a string is not a number), query strings and path
 * parameters are text by nature and are coerced ("25" → 25, "1.5" stays a violation of integer).
 */
const ajvBase = { allErrors: false, strict: false, removeAdditional: false as const, useDefaults: false };
const AJV = { body: new Ajv.default({ ...ajvBase, coerceTypes: false }), text: new Ajv.default({ ...ajvBase, coerceTypes: true }) };
/** Compiled once per process and schema: every server (and test) would otherwise recompile them all. */
const compiled = new Map<string, ReturnType<Ajv.default['compile']>>();

function validator({ schema, httpPart }: { schema: object; httpPart?: string }) {
  const part = httpPart === 'body' ? 'body' : 'text';
  const key = part + JSON.stringify(schema);
  let v = compiled.get(key);
  if (!v) compiled.set(key, (v = AJV[part].compile(schema)));
  return v;
}

export async function startHttpApi(server: EparaServer, opts: HttpApiOptions, audit: Audit = () => undefined): Promise<HttpApi> {
  if (!opts || typeof opts.token !== 'string' || opts.token.length < 16) {
    throw new ConfigError({ code: 'config.http_token', reason: 'the HTTP API needs a bearer token of at least 16 characters', hint: 'generate one: openssl rand -hex 24', field: 'http.token' });
  }
  const o = resolveNumbers(HTTP_SPECS, opts as unknown as Record<string, unknown>, 'http.');
  if (o.requestTimeoutMs < o.headersTimeoutMs) {
    throw new ConfigError({ code: 'config.range', reason: `http.requestTimeoutMs=${o.requestTimeoutMs} ms is shorter than http.headersTimeoutMs=${o.headersTimeoutMs} ms`, hint: 'the request timeout covers the headers: make it at least as long', field: 'http.requestTimeoutMs' });
  }
  const host = opts.host ?? '127.0.0.1';
  const tokenHash = sha(opts.token);
  let doc: unknown;
  const routes: RouteSpec[] = httpRoutes({ metrics: opts.metrics !== false, maxBodyBytes: o.maxBodyBytes, maxArtifactBytes: o.maxArtifactBytes, openapi: () => (doc ??= openApiDocument(routes, '1')) });

  const send = (reply: FastifyReply, e: EparaError): FastifyReply => reply.code(statusOf(e)).type('application/json; charset=utf-8').send({ error: e.toJSON() });

  const app = Fastify({
    logger: false,
    bodyLimit: HTTP_LIMITS.controlBodyBytes,
    keepAliveTimeout: o.keepAliveTimeoutMs,
    requestTimeout: o.requestTimeoutMs,
    // Node checks the header and request timeouts on this interval (default 30 s): a slow-headers
    // connection would otherwise live up to 30 s past its timeout.
    http: { headersTimeout: o.headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, o.headersTimeoutMs) } as never,
    forceCloseConnections: true,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 200 },
    frameworkErrors: (err, _req, reply) => {
      send(reply, fromFrameworkError(err, o.maxBodyBytes) ?? httpError('http.bad_request', err.message.slice(0, 200), 'see GET /openapi.json for the routes'));
    },
    schemaErrorFormatter: (errors, context) => schemaError(context, errors),
    clientErrorHandler: (err, socket) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(clientErrorResponse(err as NodeJS.ErrnoException));
      socket.destroy();
    },
  });
  app.setValidatorCompiler(validator);

  // JSON for every content type but raw bytes (clients such as `curl -d` send JSON as
  // form-urlencoded or text/plain, which the hand-written API accepted); the raw stream for
  // application/octet-stream, which only PUT /artifacts takes.
  const strict = app.getDefaultJsonParser('error', 'error');
  // An empty body is no body (a DELETE sent with Content-Type: application/json); a route whose
  // schema needs one then says so.
  const json: typeof strict = (req, body, done) => ((body as string).length === 0 ? done(null, undefined) : strict(req, body, done));
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, json);
  app.addContentTypeParser('*', { parseAs: 'string' }, json);
  app.addContentTypeParser('application/octet-stream', (req, payload, done) => {
    if (req.routeOptions.config && (req.routeOptions.config as { raw?: boolean }).raw) done(null, payload);
    else done(httpError('http.unsupported_media_type', 'this route takes JSON, not application/octet-stream', 'send Content-Type: application/json'), undefined);
  });

  const authorised = (req: FastifyRequest): boolean => {
    const h = req.headers.authorization;
    if (typeof h !== 'string' || !h.startsWith('Bearer ')) return consoleSession(req);
    // Compare hashes so the comparison is constant-time whatever the length given.
    return timingSafeEqual(sha(h.slice(7)), tokenHash);
  };
  // The console's cookie (console-session.ts). A changing request must come from this origin too:
  // SameSite=Strict already keeps other sites' pages from sending the cookie, this is the second lock.
  const consoleSession = (req: FastifyRequest): boolean => {
    if (!validSession(opts.token, sessionFromCookieHeader(req.headers.cookie))) return false;
    const origin = req.headers.origin;
    return req.method === 'GET' || req.method === 'HEAD' || origin === undefined || origin === `http://${req.headers.host}` || origin === `https://${req.headers.host}`;
  };
  app.route({
    method: 'POST',
    url: '/session',
    config: { auth: false },
    handler: async (req, reply) => {
      const given = (req.body as { token?: unknown } | undefined)?.token;
      if (typeof given !== 'string' || !timingSafeEqual(sha(given), tokenHash)) {
        audit({ event: 'http.unauthorized', remote: `${req.ip}`, detail: `POST /session: ${typeof given === 'string' ? 'a wrong token' : 'no token'}` });
        throw httpError('http.unauthorized', 'wrong API token', 'use the token from http.token (`epara serve` writes it to <data dir>/http-token)');
      }
      reply.header('set-cookie', setCookieHeader(sessionCookieValue(opts.token))).code(204);
      return reply.send();
    },
  });
  app.route({ method: 'DELETE', url: '/session', config: { auth: false }, handler: async (_req, reply) => reply.header('set-cookie', CLEAR_COOKIE).code(204).send() });

  app.addHook('onRequest', async (req, reply) => {
    if ((req.routeOptions.config as { auth?: boolean } | undefined)?.auth === false) return;
    if (authorised(req)) return;
    const given = typeof req.headers.authorization === 'string' ? 'a wrong bearer token' : 'no bearer token';
    audit({ event: 'http.unauthorized', remote: `${req.ip}`, detail: `${req.method} ${req.url.slice(0, 120)}: ${given}` });
    reply.header('www-authenticate', 'Bearer');
    throw httpError('http.unauthorized', 'missing or wrong bearer token', 'send Authorization: Bearer <token> as configured in http.token (`epara serve` writes it to <data dir>/http-token)');
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    const e = err instanceof EparaError ? err : fromFrameworkError(err as { code?: string }, req.routeOptions.bodyLimit ?? HTTP_LIMITS.controlBodyBytes);
    if (e) return send(reply, e);
    const first = (err as Error)?.message?.split('\n', 1)[0] ?? String(err);
    return send(reply, new EparaError({ code: 'internal', reason: first, hint: 'this is a bug in epara; please report it' }));
  });

  // Unknown path → 404; known path, other method → 405 with Allow (issue 15, defect 7).
  const patterns = routes.map((r) => ({ re: new RegExp(`^${r.url.replace(/:[A-Za-z]+/g, '[^/]+')}/?$`), method: r.method }));
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?', 1)[0]!.replace(/\/{2,}/g, '/');
    const allow = [...new Set(patterns.filter((p) => p.re.test(path)).flatMap((p) => (p.method === 'GET' ? ['GET', 'HEAD'] : [p.method])))];
    if (allow.length) {
      reply.header('allow', allow.join(', '));
      return send(reply, httpError('http.method_not_allowed', `${req.method} is not a method of ${path.slice(0, 120)}`, `use ${allow.join(' or ')} (see GET /openapi.json)`, { details: { allow } }));
    }
    return send(reply, httpError('http.not_found', `no route ${req.method} ${path.slice(0, 120)}`, 'see GET /openapi.json for the HTTP API routes'));
  });

  for (const r of routes) {
    const schema: Record<string, unknown> = { response: r.response };
    if (r.params) schema.params = r.params;
    if (r.query) schema.querystring = r.query;
    if (r.body) schema.body = r.body;
    app.route({
      method: r.method,
      url: r.url,
      schema,
      config: { auth: r.auth !== false, raw: r.raw === true },
      ...(r.bodyLimit ? { bodyLimit: r.bodyLimit } : {}),
      ...(r.raw
        ? {
            preParsing: async (req: FastifyRequest) => {
              if (!/^application\/octet-stream\b/i.test(req.headers['content-type'] ?? '')) {
                throw httpError('http.unsupported_media_type', `${r.method} ${r.url} takes the raw bytes as application/octet-stream`, 'send the file as the body with Content-Type: application/octet-stream, as `epara deploy <file>` does');
              }
            },
          }
        : {}),
      preValidation: async (req) => {
        if (r.bodyOptional && req.body === undefined) req.body = {};
        r.preValidate?.(req.body);
      },
      handler: async (req, reply) => {
        const stream = r.raw && req.body instanceof Readable ? req.body : undefined;
        const a = await r.handler(server, { params: req.params as Record<string, string>, query: req.query as Record<string, unknown>, body: req.body, headers: req.headers, ...(stream ? { stream } : {}) });
        reply.code(a.status);
        if (a.contentType) reply.type(a.contentType);
        if (a.headers) reply.headers(a.headers);
        return a.body;
      },
    });
  }

  try {
    await app.listen({ port: o.port, host });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw new ConfigError({ code: 'config.http_listen', reason: `cannot listen on ${host}:${o.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, hint: 'pick another http.port', cause: err });
  }
  const addr = app.server.address() as AddressInfo;
  return {
    address: { host: addr.address, port: addr.port },
    close: () => app.close(),
  };
}
