import { ConfigError, EparaError } from '../errors.js';

/**
 * How the HTTP API answers failures: always `{ error: { code, reason, hint, … } }` with a status
 * from the code. A client's mistake is a 4xx; 500 is kept for what is a bug in epara.
 */
const STATUS_BY_CODE: Array<[RegExp, number]> = [
  [/^config\./, 400],
  [/^registry\.duplicate$/, 409],
  [/^registry\.(unknown_device|not_pending)$/, 404],
  [/^deploy\.(unknown|unknown_device|artifact_unknown)$/, 404],
  [/^deploy\.(artifact_missing|artifact_empty|bad_artifact)$/, 400],
  // The devices named cannot run the kind (their HELLO formats): the request is wrong, not the server.
  [/^deploy\.unsupported_kind$/, 422],
  [/^http\.unauthorized$/, 401],
  [/^http\.not_found$/, 404],
  [/^http\.method_not_allowed$/, 405],
  [/^http\.timeout$/, 408],
  [/^(http\.too_large|infer\.too_large|frame\.oversize)$/, 413],
  [/^http\.unsupported_media_type$/, 415],
  [/^http\.busy$/, 503],
  [/^http\./, 400],
  [/^infer\.no_device$/, 503],
  // A split model's stage device is gone (the next placement round forms the group again), or answered without its tensors.
  [/^infer\.(stage_lost|stage_mismatch)$/, 503],
  // A model the partitioner cannot cut, or a pipeline group that cannot be formed: the request asks the impossible.
  [/^partition\.(bad_model|cannot_cut|bad_request)$/, 422],
  [/^deploy\.(pipeline_group|pipeline_refused)$/, 409],
  [/^infer\.(deadline)$/, 504],
  [/^infer\.(bad_input|unknown_service)$/, 400],
];

export function statusOf(err: EparaError): number {
  for (const [re, status] of STATUS_BY_CODE) if (re.test(err.code)) return status;
  return 500;
}

export function httpError(code: string, reason: string, hint: string, extra: { field?: string; details?: Record<string, unknown> } = {}): EparaError {
  return new EparaError({ code, reason, hint, ...extra });
}

const SCHEMA_HINT = 'the route schemas are in GET /openapi.json; the CLI (`epara --help`) sends valid requests';

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `/inputs/0/dtype` → `inputs[0].dtype`: the field naming the rest of epara uses. */
function fieldOf(part: string, e: AjvError): string {
  let path = (e.instancePath ?? '')
    .split('/')
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('');
  const missing = e.params?.missingProperty ?? e.params?.additionalProperty;
  if (typeof missing === 'string') path += `.${missing}`;
  path = path.replace(/^\./, '');
  return path || part;
}

/**
 * A request that violates its route's schema. The code names the part (`http.invalid_body`,
 * `http.invalid_query`, `http.invalid_params`); tensor fields keep the code they had before the
 * schemas (`config.tensor`) so existing clients see the same code.
 */
export function schemaError(context: string, errors: AjvError[]): EparaError {
  const e = errors[0] ?? {};
  const part = context === 'querystring' ? 'query' : context;
  const field = fieldOf(part, e);
  const what = e.keyword === 'additionalProperties' ? 'is not a field of this route' : e.message ?? 'is invalid';
  const allowed = Array.isArray(e.params?.allowedValues) ? ` (one of ${(e.params!.allowedValues as unknown[]).join(', ')})` : '';
  const reason = `${part === 'body' || part === 'query' || part === 'params' ? `${part} ` : ''}${field === part ? '' : `${field} `}${what}${allowed}`.slice(0, 300);
  const code = part === 'body' && /^inputs\[\d+\]/.test(field) ? 'config.tensor' : `http.invalid_${part}`;
  return new ConfigError({ code, reason, hint: SCHEMA_HINT, field, details: { keyword: e.keyword, ...(e.params ?? {}) } });
}

/** Fastify's own errors (framework and body parsing) as typed errors; undefined when not one. */
export function fromFrameworkError(err: { code?: string; statusCode?: number; message?: string }, maxBody: number): EparaError | undefined {
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return httpError('http.bad_url', 'the request path is not valid percent-encoding', 'encode path segments with encodeURIComponent (the CLI does)');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return httpError('http.not_found', 'a path segment is longer than any id or name the API has', 'ids are at most 64 characters; list them with `epara devices`');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return httpError('http.too_large', `request body exceeds ${maxBody} bytes`, 'send a smaller body (artifacts go to PUT /artifacts, as `epara deploy <file>` does)', { details: { maxBytes: maxBody } });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return httpError('http.unsupported_media_type', 'the body\'s Content-Type is not accepted here', 'send JSON (application/json), or raw bytes (application/octet-stream) to PUT /artifacts');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ConfigError({ code: 'config.json', reason: 'request body is not valid JSON', hint: 'send Content-Type: application/json with a JSON object' });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return httpError('http.bad_request', 'Content-Length does not match the body', 'send the exact body length, or chunked encoding');
    default:
      break;
  }
  if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message ?? ''))) {
    return new ConfigError({ code: 'config.json', reason: 'request body is not valid JSON', hint: 'send Content-Type: application/json with a JSON object' });
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return httpError('http.bad_request', (err.message ?? 'bad request').split('\n', 1)[0]!.slice(0, 200), 'see GET /openapi.json for the routes and their schemas');
  }
  return undefined;
}

/**
 * What Node's HTTP parser refuses before there is a request (headers too slow, too large, or not
 * HTTP): the raw answer for the socket, with the same typed body as every other error.
 */
export function clientErrorResponse(err: { code?: string }): string {
  const [status, e] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, httpError('http.timeout', 'the request did not arrive within the header / request timeout', 'send the whole request promptly, or raise http.headersTimeoutMs / http.requestTimeoutMs')]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, httpError('http.headers_too_large', 'the request line and headers exceed 16 KiB', 'send fewer or shorter headers (long id lists go in a JSON body)')]
        : [400, httpError('http.bad_request', 'the request is not valid HTTP/1.1', 'use an HTTP client such as curl or the `epara` CLI')];
  const body = JSON.stringify({ error: e.toJSON() });
  return `HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`;
}
