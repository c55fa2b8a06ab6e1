import type { RouteSpec } from './http-routes.js';
import { S, type JsonSchema } from './http-schemas.js';

/**
 * The OpenAPI 3.1 document of the HTTP API, built from the same route table Fastify validates
 * with. Built here (about 50 lines) rather than with @fastify/swagger: the table already holds
 * every schema, so a plugin would add dependencies (and its own route walk) for the same output.
 */
export function openApiDocument(routes: readonly RouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [['path', r.params], ['query', r.query]] as const) {
      const props = (schema?.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema?.required as string[] | undefined) ?? []);
      for (const [name, s] of Object.entries(props)) parameters.push({ name, in: where, required: where === 'path' || required.has(name), schema: s });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, schema] of Object.entries(r.response)) {
      const type = r.url === '/metrics' ? 'text/plain' : 'application/json';
      responses[status] = { description: status.startsWith('2') ? 'success' : 'error', content: { [type]: { schema } } };
    }
    responses['4XX'] = { description: 'a client mistake: `{ error: { code, reason, hint, field?, details? } }`', content: { 'application/json': { schema: S.error } } };
    const op: Record<string, unknown> = { summary: r.summary, operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`, responses };
    if (parameters.length) op.parameters = parameters;
    if (r.auth === false) op.security = [];
    if (r.raw) op.requestBody = { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } };
    else if (r.body) op.requestBody = { required: !r.bodyOptional, content: { 'application/json': { schema: r.body, ...(r.example !== undefined ? { example: r.example } : {}) } } };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'epara server HTTP API', version, description: 'Device registry, deployments and inference of an epara gateway. Every route but /healthz needs `Authorization: Bearer <token>`. Errors answer `{ error: { code, reason, hint } }`.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
