import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { LinkError } from '../errors.js';
import { resolveNumber } from '../options.js';
import type { ByteStream, Listener } from './byte-stream.js';
import { BaseByteStream } from './base-stream.js';
import { closedError, linkError } from './link-errors.js';
import { awaitDrain } from './await-drain.js';

type Pem = string | Buffer | Array<string | Buffer>;

export interface TcpConnectOptions {
  host: string;
  port: number;
  /** Connect with TLS. `ca` pins the server's CA; `cert`/`key` present a client certificate. */
  tls?: { ca?: Pem; cert?: Pem; key?: Pem; servername?: string; rejectUnauthorized?: boolean };
  /** Give up connecting after this long. */
  timeoutMs?: number;
}

export interface TcpListenOptions {
  /** Default 127.0.0.1: listening on every interface must be asked for explicitly. */
  host?: string;
  /** 0 picks a free port (read it back from `.port`). */
  port?: number;
  /** Serve TLS; `requestCert` with `ca` requires client certificates signed by that CA. */
  tls?: { cert: Pem; key: Pem; ca?: Pem; requestCert?: boolean };
}

class SocketStream extends BaseByteStream {
  private closing = false;
  private lastError?: Error;

  constructor(
    private readonly socket: net.Socket,
    readonly kind: 'tcp' | 'tls',
    readonly description: string,
  ) {
    super();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (c: Buffer) => this.emitData(c));
    socket.on('error', (err) => {
      this.lastError = err;
    });
    socket.on('close', () => {
      this.markClosed(this.closing ? undefined : closedError(this.description, this.lastError));
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen || this.socket.destroyed) return Promise.reject(closedError(this.description));
    return new Promise((resolve, reject) => {
      if (this.socket.write(bytes)) return resolve();
      // Kernel buffer and our highWaterMark are full: wait for drain or the end of the link.
      awaitDrain(this, this.socket, resolve, reject);
    });
  }

  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      if (this.socket.destroyed) {
        this.markClosed();
        return resolve();
      }
      this.socket.once('close', () => resolve());
      this.socket.end();
      // A peer that never sends FIN must not keep us waiting.
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
  }
}

/** How long a TLS 1.3 client that presented a certificate waits for the server to refuse it. */
const TLS13_CERT_WAIT_MS = 150;

const TLS_VERIFY = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** Maps a connect-time socket or TLS error to a LinkError a user can act on. */
export function tcpConnectError(where: string, err: unknown, usingTls: boolean): LinkError {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e?.code ?? '';
  const msg = String(e?.message ?? err);
  const details = { address: where, code, cause: msg };
  if (TLS_VERIFY.has(code)) {
    return linkError('link.tls', `the server certificate of ${where} was refused (${code})`, code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? 'connect with the host name the certificate was issued for, or pass tls.servername'
      : "pass the CA that signed the server's certificate as tls.ca (the gateway prints its CA path at start)", { details, cause: err });
  }
  if (usingTls && (/alert|certificate|handshake|SSL|TLS/i.test(msg) || code.startsWith('ERR_SSL') || code === 'ECONNRESET')) {
    return linkError(
      'link.tls',
      `TLS handshake with ${where} failed: ${msg.slice(0, 120)}`,
      /certificate required|unknown ca|bad certificate/i.test(msg)
        ? 'the server wants a client certificate signed by its CA (its tls.ca): pass that certificate and its key as tls.cert and tls.key'
        : 'check that both sides use TLS and trust each other (tls.ca on the client, ca/requestCert on the server)',
      { details, cause: err },
    );
  }
  if (code === 'ECONNREFUSED') {
    return linkError('link.open_failed', `connection to ${where} refused`, 'is the epara gateway running and listening on that address and port?', { details, cause: err });
  }
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return linkError('link.timeout', `no answer from ${where} (${code})`, 'check the address, the network and any firewall between the device and the gateway', { details, cause: err });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return linkError('link.open_failed', `host of ${where} not found`, 'check the host name or use an IP address', { details, cause: err });
  }
  return linkError('link.open_failed', `could not connect to ${where}: ${msg.slice(0, 120)}`, 'check the address and that the gateway is reachable', { details, cause: err });
}

/** Connects over TCP, or TLS when `tls` is given. */
export async function connectTcp(opts: TcpConnectOptions): Promise<ByteStream> {
  const port = resolveNumber('port', opts?.port, { default: NaN, min: 1, max: 65535, integer: true });
  if (Number.isNaN(port)) throw linkError('link.open_failed', 'port is missing', 'pass the gateway port, e.g. port: 7878', { field: 'port' });
  if (typeof opts.host !== 'string' || !opts.host) throw linkError('link.open_failed', 'host is missing', 'pass host, e.g. 127.0.0.1', { field: 'host' });
  const timeoutMs = resolveNumber('timeoutMs', opts.timeoutMs, { default: 10_000, min: 10, max: 600_000, unit: 'ms' });
  const where = `${opts.host}:${port}`;
  const useTls = opts.tls !== undefined;
  return new Promise<ByteStream>((resolve, reject) => {
    const ready = useTls ? 'secureConnect' : 'connect';
    const socket = useTls
      ? tls.connect({ host: opts.host, port, ca: opts.tls!.ca, cert: opts.tls!.cert, key: opts.tls!.key, servername: opts.tls!.servername ?? (net.isIP(opts.host) ? undefined : opts.host), rejectUnauthorized: opts.tls!.rejectUnauthorized ?? true })
      : net.connect({ host: opts.host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(linkError('link.timeout', `connecting to ${where} took longer than ${timeoutMs} ms`, 'check the address and the network; raise timeoutMs for slow links', { details: { address: where, timeoutMs } }));
    }, timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(tcpConnectError(where, err, useTls));
    };
    socket.once('error', fail);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.off('error', fail);
      const stream = new SocketStream(socket, useTls ? 'tls' : 'tcp', where);
      const tlsSocket = socket as tls.TLSSocket;
      if (!useTls || !opts.tls!.cert || tlsSocket.getProtocol?.() !== 'TLSv1.3') return resolve(stream);
      // TLS 1.3 with a client certificate: the server verifies it only after our side of the
      // handshake finished, and refuses by alert + close about one round trip later. Wait that
      // long before calling the link up, so a refused certificate fails connect with link.tls
      // rather than the first request. (Waiting for the server's session ticket instead would be
      // exact, but a 'session' listener stalled application data on Node 20 in our tests.) A
      // refusal slower than this still ends the stream, with the TLS alert as the close's cause.
      let settled = false;
      const finish = (ok: boolean, err?: LinkError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(fallback);
        stream.off('close', onClose);
        if (ok && stream.isOpen) resolve(stream);
        else reject(tcpConnectError(where, (err?.cause as Error) ?? new Error('connection closed by the server during the TLS handshake (certificate required?)'), true));
      };
      const onClose = (err?: LinkError): void => finish(false, err);
      const fallback = setTimeout(() => finish(true), Math.min(TLS13_CERT_WAIT_MS, timeoutMs));
      stream.once('close', onClose);
    });
  });
}

class TcpListener extends EventEmitter implements Listener {
  constructor(
    private readonly server: net.Server,
    readonly description: string,
    readonly port: number,
    private readonly streams: Set<ByteStream>,
  ) {
    super();
  }
  async close(): Promise<void> {
    await Promise.all([...this.streams].map((s) => s.close()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Listens for devices on TCP or TLS. Emits 'connection' with a ByteStream per peer. A peer that
 * fails the TLS handshake (wrong or missing certificate) is reported on 'client-error' as a
 * LinkError and never disturbs the listener.
 */
export async function listenTcp(opts: TcpListenOptions = {}): Promise<Listener & { port: number; on(event: 'client-error', l: (e: LinkError) => void): unknown }> {
  const host = opts.host ?? '127.0.0.1';
  const port = resolveNumber('port', opts.port, { default: 0, min: 0, max: 65535, integer: true });
  const useTls = opts.tls !== undefined;
  const streams = new Set<ByteStream>();
  let listener: TcpListener | undefined;
  const onSocket = (socket: net.Socket): void => {
    const stream = new SocketStream(socket, useTls ? 'tls' : 'tcp', `${socket.remoteAddress}:${socket.remotePort}`);
    streams.add(stream);
    stream.once('close', () => streams.delete(stream));
    listener?.emit('connection', stream);
  };
  const server = useTls
    ? tls.createServer({ cert: opts.tls!.cert, key: opts.tls!.key, ca: opts.tls!.ca, requestCert: opts.tls!.requestCert ?? false, rejectUnauthorized: opts.tls!.requestCert ?? false }, onSocket)
    : net.createServer(onSocket);
  if (useTls) {
    server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      const where = `${socket.remoteAddress}:${socket.remotePort}`;
      listener?.emit('client-error', linkError('link.tls', `TLS handshake from ${where} failed: ${err.message.slice(0, 120)}`, 'the device must present a certificate signed by the gateway CA and trust the gateway certificate', { details: { address: where }, cause: err }));
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? linkError('link.busy', `${host}:${port} is already in use`, 'pick another port, or stop the other listener (ss -ltnp shows it)', { cause: err })
          : err.code === 'EACCES'
            ? linkError('link.permission', `no permission to listen on ${host}:${port}`, 'ports below 1024 need privileges; use a port above 1024', { cause: err })
            : linkError('link.open_failed', `cannot listen on ${host}:${port}: ${err.message}`, 'check the host address', { cause: err }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  server.on('error', (err) => {
    if (listener && listener.listenerCount('error') > 0) listener.emit('error', err);
  });
  const bound = (server.address() as net.AddressInfo).port;
  listener = new TcpListener(server, `${useTls ? 'tls' : 'tcp'}://${host}:${bound}`, bound, streams);
  return listener as TcpListener & { port: number; on(event: 'client-error', l: (e: LinkError) => void): unknown };
}
