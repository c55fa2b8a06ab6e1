/**
 * Handler tables: one answer to "where is X handled?" on each side. Modelled on MCUmgr's
 * `mgmt_group` handler tables, but checked by the compiler: `Handlers<'server', …>` has one
 * required entry per message the catalogue says reaches the server unsolicited (a request or an
 * event from the device), so a message added to the catalogue without a handler on its receiving
 * side does not compile. Responses never appear here: they settle the request that asked for them
 * (FrameLink correlates them).
 */
import type { EventsTo, Peer, RequestsTo } from './catalogue.js';
import type { Message, MessageName, MessageOf } from './types.js';

/** Handlers of the requests that reach `P`; each returns (or sends) the answer. */
export type RequestHandlers<P extends Peer, Ctx, R> = { readonly [N in RequestsTo<P>]: (msg: MessageOf<N>, ctx: Ctx) => R };

/** Handlers of the events that reach `P`; nothing is answered. */
export type EventHandlers<P extends Peer, Ctx, R> = { readonly [N in EventsTo<P>]: (msg: MessageOf<N>, ctx: Ctx) => R };

/**
 * Every message `P` receives outside an answer, with its handler. Extra entries (a message that
 * arrives the wrong way and gets a specific refusal) may be added with `Partial<Extra>`.
 */
export type Handlers<P extends Peer, Ctx, Req, Evt = Req> = RequestHandlers<P, Ctx, Req> & EventHandlers<P, Ctx, Evt>;

type AnyTable<Ctx, R> = Partial<Record<MessageName, (msg: never, ctx: Ctx) => R>>;

/** The table's handler for `msg`, or undefined when the table has none (the caller's fallback answers). */
export function handlerFor<Ctx, R>(table: AnyTable<Ctx, R>, msg: Message): ((msg: Message, ctx: Ctx) => R) | undefined {
  return table[msg.type] as ((msg: Message, ctx: Ctx) => R) | undefined;
}
