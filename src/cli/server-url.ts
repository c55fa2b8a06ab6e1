import { CliError, usageError } from './cli-error.js';
import type { ServeRuntime } from './server-runtime.js';

/** The device port `epara serve` listens on by default (its HTTP API is on another port). */
export const DEFAULT_DEVICE_PORT = 7878;

/**
 * `--server` as people type it: `127.0.0.1:34451` (no scheme) means http://127.0.0.1:34451/.
 * Anything that is not http(s) after that is a usage error, not a server that "does not answer".
 */
export function normalizeServerUrl(given: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `http://${given}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw usageError('server', `--server ${given} is not a URL`, 'e.g. --server http://127.0.0.1:8080 (the "http api:" line epara serve prints)');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usageError('server', `--server ${given}: epara serve speaks http or https, not ${u.protocol.replace(/:$/, '')}`, 'e.g. --server http://127.0.0.1:8080');
  return u.href.replace(/\/?$/, '/');
}

function hostPort(url: string): string {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return `${u.hostname.replace(/^\[|\]$/g, '')}:${port}`;
}

/** The device link of the local server that `url` points at, if it is one (`tcp 127.0.0.1:7878`). */
export function deviceLinkAt(url: string, rt: ServeRuntime | undefined): string | undefined {
  if (!rt) return undefined;
  const target = hostPort(url);
  return rt.links.find((l) => {
    const m = /^tcp (.+)$/.exec(l);
    if (!m) return false;
    const [host, port] = [m[1]!.slice(0, m[1]!.lastIndexOf(':')), m[1]!.slice(m[1]!.lastIndexOf(':') + 1)];
    return `${host}:${port}` === target || (host === '0.0.0.0' && target.endsWith(`:${port}`));
  });
}

/** `--server` names the device port of the server running for this data dir: say so before waiting on it. */
export function devicePortError(url: string, link: string, rt: ServeRuntime): CliError {
  return new CliError({
    code: 'cli.server_device_port',
    reason: `${url} is the device port of the epara serve running for this data dir (${link}), not its HTTP API`,
    hint: `use --server ${rt.http} (the "http api:" line of epara serve), or leave --server out: the CLI finds it through serve.json`,
    field: 'server',
  });
}

/** Why a request to `url` failed, in the operator's terms (fetch only says "fetch failed"). */
export function unreachableError(url: string, cause: unknown, rt: ServeRuntime | undefined): CliError {
  const code = (cause as { cause?: { code?: string } })?.cause?.code ?? (cause as { code?: string })?.code;
  const link = deviceLinkAt(url, rt);
  if (link && rt) return devicePortError(url, link, rt);
  const port = Number(new URL(url).port);
  const closed = code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'UND_ERR_HEADERS_TIMEOUT';
  if (closed) {
    return new CliError({
      code: 'cli.server_not_http',
      reason: `something at ${url} accepted the connection but gave no HTTP answer`,
      hint:
        port === DEFAULT_DEVICE_PORT
          ? `${DEFAULT_DEVICE_PORT} is the default device port of epara serve (--tcp); its HTTP API is on another port: the "http api:" line it prints, or "http" in <data dir>/serve.json`
          : 'is that a device port (epara serve --tcp)? --server wants the HTTP API: the "http api:" line epara serve prints',
      cause,
    });
  }
  return new CliError({
    code: 'cli.server_unreachable',
    reason: `no epara server answers at ${url}${code ? ` (${code})` : ''}`,
    hint: 'start one with `epara serve` (same --data-dir), or pass the "http api:" URL it prints as --server',
    cause,
  });
}
