import { EparaError } from '../../errors.js';
import { toErrorMessage, WIRE, type Message } from '../../protocol/index.js';
import { handlerFor, type Handlers } from '../../protocol/messages/dispatch.js';
import type { FrameLink } from '../../transport/frame-link.js';
import { asEparaError } from '../client-errors.js';

/** What a device-side handler gets with a message: the link it came on. */
export interface DeviceContext {
  readonly link: FrameLink;
}

/**
 * The device's handler table: one entry per message the catalogue says a server sends
 * unsolicited (requests answer with a message, events answer nothing). A message added to the
 * catalogue without an entry here does not compile.
 */
export type DeviceHandlers = Handlers<'device', DeviceContext, Promise<Message> | Message, void>;

/** Answers one request from the server through the table; a handler that throws becomes an ERROR, never a crash. */
export async function answerRequest(table: DeviceHandlers, msg: Message, ctx: DeviceContext, delayMs: (request: Message) => number, reply: (m: Message) => Promise<void>): Promise<void> {
  let answer: Message;
  try {
    const handler = handlerFor<DeviceContext, Promise<Message> | Message | void>(table, msg);
    const a = handler ? await handler(msg, ctx) : undefined;
    answer = a ?? toErrorMessage(new EparaError({ code: 'msg.unexpected', wire: WIRE['msg.unexpected'], reason: `a device does not answer ${msg.type}`, hint: 'only the server → device requests of SPEC §5 are valid here' }));
  } catch (e) {
    const err = asEparaError(e, (m) => new EparaError({ code: 'internal', wire: WIRE.internal, reason: m, hint: 'this is a bug in the epara client; please report it', cause: e }));
    answer = toErrorMessage(err);
  }
  const delay = delayMs(msg);
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  await reply(answer).catch(() => undefined);
}

/** Hands one notification from the server to its table entry; others (a stray response) are dropped. */
export function onNotification(table: DeviceHandlers, msg: Message, ctx: DeviceContext): void {
  void handlerFor<DeviceContext, unknown>(table, msg)?.(msg, ctx);
}
