import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { EparaError } from '../errors.js';
import { CliError } from './cli-error.js';
import type { CommandEnv } from './command-env.js';
import { readRuntime, readToken, type ServeRuntime } from './server-runtime.js';
import { deviceLinkAt, devicePortError, normalizeServerUrl, unreachableError } from './server-url.js';
import { readProfileToken, selectedProfile } from './profiles.js';
import type { ServerFlags } from './flags.js';

/**
 * A small client for the HTTP API of a running `epara serve` (src/server-adapter/http-api.ts).
 * Errors the server sends back ({ error: {code, reason, hint} }) are rethrown as EparaErrors
 * with the same code, so the CLI prints the server's own reason and hint.
 */
export class ServerClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    /** The local server's serve.json, to tell its device port from its HTTP API in errors. */
    private readonly runtime?: ServeRuntime,
  ) {}

  request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    return this.send<T>(method, path, body !== undefined ? { 'content-type': 'application/json' } : {}, body !== undefined ? JSON.stringify(body) : undefined);
  }

  /** Streams a file to PUT /artifacts (never read whole); answers its digest and size. */
  upload(file: string): Promise<{ artifact: string; sha256: string; size: number }> {
    return this.send('PUT', 'artifacts', { 'content-type': 'application/octet-stream', 'content-length': String(statSync(file).size) }, createReadStream(file));
  }

  /**
   * Opens GET /events (Server-Sent Events) with the token, resuming after `lastEventId`; answers
   * the open response, whose body the caller reads. Refusals throw like `request` does.
   */
  async openEvents(query: string, lastEventId: string | undefined, signal: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(new URL(`events${query}`, this.baseUrl), {
        headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        signal,
      });
    } catch (cause) {
      if (signal.aborted) throw cause;
      throw unreachableError(this.baseUrl, cause, this.runtime);
    }
    if (res.ok) return res;
    const text = await res.text();
    let e: { code?: string; reason?: string; hint?: string } | undefined;
    try {
      e = (JSON.parse(text) as { error?: typeof e }).error;
    } catch {
      /* not JSON: said below */
    }
    if (res.status === 401) throw new CliError({ code: 'cli.server_token', reason: 'the server refused our token (HTTP 401)', hint: 'use the token in <data dir>/http-token of the server (same --data-dir), or pass --token' });
    throw new EparaError({ code: e?.code ?? 'cli.server_reply', reason: e?.reason ?? `GET /events answered HTTP ${res.status}`, hint: e?.hint ?? 'is --server pointing at an epara serve HTTP API?' });
  }

  private async send<T>(method: string, path: string, headers: Record<string, string>, body: string | Readable | undefined): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...headers },
        // A stream body needs half-duplex (undici); typed loosely as Node's fetch types lag.
        ...(body instanceof Readable ? { body: body as never, duplex: 'half' } : { body }),
      } as RequestInit);
    } catch (cause) {
      throw unreachableError(this.baseUrl, cause, this.runtime);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new CliError({ code: 'cli.server_reply', reason: `the server at ${this.baseUrl} sent non-JSON (HTTP ${res.status})`, hint: 'is --server pointing at an epara serve HTTP API?' });
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; reason?: string; hint?: string; wire?: number; field?: string; details?: Record<string, unknown> } })?.error;
      if (res.status === 401) {
        throw new CliError({ code: 'cli.server_token', reason: 'the server refused our token (HTTP 401)', hint: 'use the token in <data dir>/http-token of the server (same --data-dir), or pass --token' });
      }
      throw new EparaError({
        code: e?.code ?? 'internal',
        reason: e?.reason ?? `HTTP ${res.status}`,
        hint: e?.hint ?? 'see the server log',
        wire: e?.wire,
        field: e?.field,
        details: e?.details,
      });
    }
    return json as T;
  }
}

export interface ServerTarget {
  url: string;
  token: string;
}

/**
 * Find the server: --server / EPARA_SERVER / config "server", else the serve.json of the data
 * dir. Returns undefined when nothing is running (callers that can work offline then do so).
 */
export function locateServer(env: CommandEnv, flags: ServerFlags): ServerClient | undefined {
  // --server/--token, then the connection profile (--profile / EPARA_PROFILE), then the environment.
  const chosen = selectedProfile(env.ctx.env, env.flags.profile);
  const explicit = flags.server ?? chosen?.profile.server ?? env.ctx.env.EPARA_SERVER ?? env.config().server;
  const token = flags.token ?? (chosen && !flags.server ? readProfileToken(chosen.name, chosen.profile) : undefined) ?? env.ctx.env.EPARA_TOKEN ?? readToken(env.dataDirPath());
  const rt = readRuntime(env.dataDirPath());
  if (explicit) {
    const url = normalizeServerUrl(explicit);
    // A device port answers no HTTP: fail now instead of after the device's handshake timeout.
    const link = deviceLinkAt(url, rt);
    if (link && rt) throw devicePortError(url, link, rt);
    if (!token) throw new CliError({ code: 'cli.server_token', reason: `no token for ${url}`, hint: 'pass --token (or EPARA_TOKEN) with the server\'s HTTP token' });
    return new ServerClient(url, token, rt);
  }
  if (!rt) return undefined;
  if (!token) throw new CliError({ code: 'cli.server_token', reason: `the server (pid ${rt.pid}) runs but ${env.dataDirPath()}/http-token is missing`, hint: 'restart `epara serve`, or pass --token' });
  return new ServerClient(rt.http.replace(/\/?$/, '/'), token, rt);
}

export function requireServer(env: CommandEnv, flags: ServerFlags): ServerClient {
  const c = locateServer(env, flags);
  if (!c) {
    throw new CliError({
      code: 'cli.server_not_running',
      reason: `no epara server is running for data dir ${env.dataDirPath()}`,
      hint: 'start it in another terminal with `epara serve` (same --data-dir), or pass --server URL --token TOKEN',
    });
  }
  return c;
}
