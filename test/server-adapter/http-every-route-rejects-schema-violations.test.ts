import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EparaServer } from '../../src/server-adapter/server.js';
import { httpClient, type HttpAnswer } from './helpers/http-client.js';

// Walks every route of GET /openapi.json and sends, for each one, bodies / query strings / path
// parameters that break its schema one field at a time: each must be a 400 with the typed error
// body. The document is built from the same table Fastify validates with, so this also checks
// that what is published is what is enforced.
const TOKEN = 'test-token-0123456789abcdef';
let dir: string;
let server: EparaServer;
let base: string;
const { call } = httpClient(() => base, TOKEN);

type Schema = Record<string, any>;
interface Op {
  parameters?: Array<{ name: string; in: 'path' | 'query'; required: boolean; schema: Schema }>;
  requestBody?: { content: Record<string, { schema: Schema; example?: unknown }> };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-openapi-'));
  server = new EparaServer({ dataDir: join(dir, 'srv'), http: { port: 0, token: TOKEN, maxBodyBytes: 256 * 1024 }, rttProbeMs: 0 });
  await server.start();
  base = `http://${server.httpAddress!.host}:${server.httpAddress!.port}`;
  server.provision({ id: 'pi-1', deviceClass: 'microcomputer' });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A value that satisfies a (simple) schema: what the path and query parameters get by default. */
function valid(s: Schema): unknown {
  if (s.enum) return s.enum[0];
  if (s.type === 'integer') return Math.max(1, s.minimum ?? 1);
  if (s.type === 'string' && s.pattern?.includes('A-Za-z0-9._-')) return 'pi-1';
  if (s.type === 'string') return 'x';
  throw new Error(`no valid value for ${JSON.stringify(s)}`);
}

/** Values that break the schema, each with what it breaks. Lengths past the body limit are left out (they get 413). */
function breaking(s: Schema, example: unknown, limit: number): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  if (s.anyOf) return [['type', { no: 'member' }]];
  switch (s.type) {
    case 'string':
      out.push(['type', 42]);
      if (s.maxLength !== undefined && s.maxLength < limit / 2) out.push(['maxLength', (typeof example === 'string' && example ? example[0] : 'a').repeat(s.maxLength + 1)]);
      if (s.minLength) out.push(['minLength', '']);
      if (s.enum) out.push(['enum', 'not-a-member']);
      if (s.pattern) {
        const re = new RegExp(s.pattern);
        const bad = ['bad value!', '\u0001', '$', 'ZZ'].find((v) => !re.test(v));
        if (bad !== undefined) out.push(['pattern', bad]);
      }
      break;
    case 'integer':
      out.push(['type', 1.5], ['type', 'abc']);
      if (s.minimum !== undefined) out.push(['minimum', s.minimum - 1]);
      if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) out.push(['maximum', s.maximum + 1]);
      break;
    case 'boolean':
      out.push(['type', 'yes']);
      break;
    case 'array':
      out.push(['type', 'not-an-array']);
      if (s.maxItems !== undefined && Array.isArray(example) && example.length) out.push(['maxItems', Array.from({ length: s.maxItems + 1 }, () => example[0])]);
      if (s.minItems) out.push(['minItems', []]);
      break;
    case 'object':
      out.push(['type', 'not-an-object']);
      break;
  }
  return out;
}

/** Bodies that each break one field of `example` (recursing into nested objects and first array items). */
function brokenBodies(s: Schema, example: any, limit: number, path = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const props: Record<string, Schema> = s.properties ?? {};
  out.push([`${path || 'body'}: unknown field`, { ...example, __unknown: 1 }]);
  for (const r of s.required ?? []) {
    const { [r]: _gone, ...rest } = example;
    out.push([`${path}${r}: missing`, rest]);
  }
  for (const [k, ps] of Object.entries(props)) {
    for (const [what, v] of breaking(ps, example?.[k], limit)) out.push([`${path}${k}: ${what}`, { ...example, [k]: v }]);
    if (ps.type === 'object' && ps.properties && example?.[k]) {
      for (const [what, v] of brokenBodies(ps, example[k], limit, `${path}${k}.`)) out.push([what, { ...example, [k]: v }]);
    }
    if (ps.type === 'array' && ps.items?.type === 'object' && Array.isArray(example?.[k]) && example[k].length) {
      for (const [what, v] of brokenBodies(ps.items, example[k][0], limit, `${path}${k}[0].`)) out.push([what, { ...example, [k]: [v, ...example[k].slice(1)] }]);
    }
  }
  return out;
}

function expect400(r: HttpAnswer, what: string): void {
  expect(r.status, `${what} → ${r.text.slice(0, 200)}`).toBe(400);
  expect(r.json?.error?.code, what).toMatch(/^(http\.invalid_(body|query|params)|config\.tensor|http\.path_not_accepted|http\.artifact_required)$/);
  expect(typeof r.json.error.reason, what).toBe('string');
  expect(typeof r.json.error.hint, what).toBe('string');
}

describe('GET /openapi.json', () => {
  it('needs the token and lists every route', async () => {
    expect((await call('GET', '/openapi.json', undefined, null)).status).toBe(401);
    const doc = (await call('GET', '/openapi.json')).json;
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, m]) => Object.keys(m).map((x) => `${x.toUpperCase()} ${p}`));
    expect(ops.sort()).toEqual(
      [
        'GET /healthz', 'GET /openapi.json', 'GET /metrics', 'GET /devices', 'GET /devices/{id}', 'POST /devices', 'POST /devices/{id}/approve', 'POST /devices/{id}/revoke',
        'GET /deployments', 'GET /deployments/{id}', 'PUT /artifacts', 'POST /deployments', 'DELETE /services/{name}', 'POST /infer', 'POST /flows', 'GET /audit', 'GET /events',
        'GET /placement', 'GET /services',
      ].sort(),
    );
  });

  it('every route answers a request that breaks its schema with 400 and the typed error body', async () => {
    const doc = (await call('GET', '/openapi.json')).json;
    let checked = 0;
    for (const [template, methods] of Object.entries(doc.paths as Record<string, Record<string, Op>>)) {
      for (const [method, op] of Object.entries(methods)) {
        const params = op.parameters ?? [];
        const url = (pathParams: Record<string, unknown>, query: Record<string, unknown> = {}): string => {
          const p = template.replace(/\{(\w+)\}/g, (_m, n: string) => encodeURIComponent(String(pathParams[n] ?? valid(params.find((x) => x.name === n)!.schema))));
          const q = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)] as [string, string])).toString();
          return q ? `${p}?${q}` : p;
        };
        const M = method.toUpperCase();
        const jsonBody = op.requestBody?.content['application/json'];
        const example = jsonBody?.example;
        for (const prm of params) {
          for (const [what, v] of breaking(prm.schema, undefined, 1e9)) {
            if (what === 'type' && typeof v === 'number' && prm.schema.type === 'string') continue; // a number in a URL is text
            if (what === 'minLength' && prm.in === 'path') continue; // an empty segment is another path (404)
            const r = await call(M, prm.in === 'path' ? url({ [prm.name]: v }) : url({}, { [prm.name]: v }), example);
            expect400(r, `${M} ${template} ${prm.in} ${prm.name}: ${what}`);
            checked++;
          }
        }
        if (jsonBody) {
          expect400(await call(M, url({}), 'null'), `${M} ${template} body null`);
          expect400(await call(M, url({}), '[]'), `${M} ${template} body []`);
          for (const [what, b] of brokenBodies(jsonBody.schema, example ?? {}, 256 * 1024)) {
            expect400(await call(M, url({}), b), `${M} ${template} ${what}`);
            checked++;
          }
          // The unbroken example passes the schema (so the 400s above came from the broken field).
          const r = await call(M, url({}), example);
          expect(r.json?.error?.code ?? '', `${M} ${template} example`).not.toMatch(/^http\.invalid_/);
        }
        if (op.requestBody?.content['application/octet-stream']) {
          const r = await call(M, url({}), { not: 'bytes' });
          expect(r.status, `${M} ${template} JSON instead of bytes`).toBe(415);
          expect(r.json.error.code).toBe('http.unsupported_media_type');
        }
      }
    }
    console.log(`schema violations checked: ${checked}`);
    expect(checked).toBeGreaterThan(80);
  });
});
