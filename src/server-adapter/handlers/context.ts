import { errorForCode, toErrorMessage, type Frame, type Message } from '../../protocol/index.js';
import { handlerFor, type Handlers } from '../../protocol/messages/dispatch.js';
import type { DeviceConnection, ReadyPhase } from '../connection.js';
import type { Live, LiveSessions } from '../live-sessions.js';
import type { ServerMetrics } from '../metrics.js';
import type { DeployMessage } from './deploy.js';

export type Reply = (msg: Message) => Promise<void>;

/** What every server-side handler gets with a message: whose session it came on, and how to answer. */
export interface MessageContext {
  readonly deviceId: string;
  readonly live: Live;
  readonly conn: DeviceConnection;
  /** Set for requests: the answer goes back through it. */
  readonly reply: Reply | undefined;
  readonly now: number;
}

/**
 * The server's handler table: one entry per message the catalogue says a device sends
 * unsolicited, plus the deployment messages that arrive the wrong way (refused with a reason).
 */
export type ServerHandlers = Handlers<'server', MessageContext, void> & { readonly [N in DeployMessage['type']]?: (msg: Extract<DeployMessage, { type: N }>, ctx: MessageContext) => void };

/** Sends `msg` as the answer to a request, or as a notification when there was none; never throws. */
export function answer(ctx: MessageContext, msg: Message): void {
  void (ctx.reply ? ctx.reply(msg) : ctx.conn.link.notify(msg)).catch(() => undefined);
}

export interface DispatchHost {
  readonly live: LiveSessions;
  readonly metrics: ServerMetrics;
  readonly handlers: ServerHandlers;
}

/** Every frame after WELCOME: checked against the session it came on, then handed to its table entry. */
export function dispatch(h: DispatchHost, conn: DeviceConnection, ready: ReadyPhase, frame: Frame, reply: Reply | undefined): void {
  const m = frame.message;
  const deviceId = ready.session.deviceId;
  const live = h.live.get(deviceId);
  if (!live || live.conn !== conn) {
    if (reply) void reply(toErrorMessage(errorForCode('auth.not_authenticated', { reason: 'this link no longer carries a session' }))).catch(() => undefined);
    return;
  }
  const ctx: MessageContext = { deviceId, live, conn, reply, now: Date.now() };
  const handler = handlerFor<MessageContext, void>(h.handlers, m);
  if (handler) return handler(m, ctx);
  if (reply) answer(ctx, toErrorMessage(errorForCode('msg.unexpected', { reason: `the server does not take ${m.type} from a device` })));
}
