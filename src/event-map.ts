/**
 * Node's typed EventEmitter (`EventEmitter<T>`, @types/node ≥ 20) wants each event's arguments as
 * a tuple; epara's public event maps name each event's listener instead, which reads better in
 * docs and editors. This turns the one into the other, so `extends EventEmitter<EventArgs<M>>`
 * types on / once / off / emit without hand-written overrides.
 */
export type EventArgs<M> = { [K in keyof M]: M[K] extends (...args: infer A) => unknown ? A : never };
