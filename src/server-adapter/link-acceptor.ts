import { DEFAULT_MAX_FRAME } from '../protocol/index.js';
import type { ByteStream, Listener } from '../transport/byte-stream.js';
import { FrameLink } from '../transport/frame-link.js';
import type { FrameLinkOptions } from '../transport/frame-link-options.js';
import { DeviceConnection, type ConnectionHost } from './connection.js';
import type { DeviceLink } from './device-link.js';
import type { ServerMetrics } from './metrics.js';
import { sourceAddress, type RefusalLimiter } from './refusal-limiter.js';

export interface LinkAcceptorHost {
  readonly connectionHost: ConnectionHost;
  readonly metrics: ServerMetrics;
  readonly refusals: RefusalLimiter;
  readonly linkOptions: FrameLinkOptions | undefined;
  /** False while the server is not started or is shutting down: new links are refused. */
  accepting(): boolean;
  emitError(err: Error): void;
}

/** The server's links: every listener it accepts on and every open device connection. */
export class LinkAcceptor {
  readonly connections = new Set<DeviceConnection>();
  readonly listeners: Listener[] = [];
  private retriesOfClosedLinks = 0;

  constructor(private readonly h: LinkAcceptorHost) {}

  /** FrameLink retransmissions over every link this server has had. */
  get retries(): number {
    return this.retriesOfClosedLinks + [...this.connections].reduce((n, c) => n + c.link.stats.retries, 0);
  }

  listen(listener: Listener): void {
    this.listeners.push(listener);
    listener.on('connection', (stream) => this.attach(stream));
    listener.on('error', (err) => this.h.emitError(err));
  }

  attach(stream: ByteStream): DeviceConnection | undefined {
    if (!this.h.accepting() || !this.h.refusals.admits(sourceAddress(stream.description), Date.now())) {
      void stream.close().catch(() => undefined);
      return undefined;
    }
    // Devices send few requests (HELLO, AUTH, HEARTBEAT, PING) and rarely more than one at a time;
    // a response cache of 4 entries answers any retransmission while costing a fraction of the
    // transport's default per link, which matters at 10k links.
    const link = new FrameLink(stream, { maxFrame: DEFAULT_MAX_FRAME, responseCacheSize: 4, ...this.h.linkOptions }) as unknown as DeviceLink;
    link.messageTap = (direction, type) => this.h.metrics.messages.inc({ direction, type });
    const conn = new DeviceConnection(link, stream.description, this.h.connectionHost);
    this.connections.add(conn);
    link.on('close', () => {
      this.retriesOfClosedLinks += link.stats.retries;
      this.connections.delete(conn);
    });
    return conn;
  }
}
