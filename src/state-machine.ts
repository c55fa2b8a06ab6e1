import type { EparaError } from './errors.js';

/**
 * The one transition engine of epara's state machines (the server session, the deployment record,
 * the device session and the server's per-link handshake). Modelled on Z-Wave JS's core `fsm`:
 * a machine is a pure function from (state, input) to the next state, or undefined when the input
 * is not allowed in that state. States may carry data: a discriminated union whose members hold
 * only the fields that state has (the handshake's nonce exists only while it waits for AUTH), so
 * no field needs a `!`. Machines over plain names build their function from a table.
 *
 * Pure: no timers, no I/O. Side effects stay with the owner, which acts on the state it lands in.
 */
export type Transitions<S, I> = (state: S, input: I) => S | undefined;

/** A table of plain state names: what each event leads to, per state (absent = not allowed). */
export type TransitionTable<S extends string, E extends string> = Readonly<Record<S, Partial<Record<E, S>>>>;

export function tableTransitions<S extends string, E extends string>(table: TransitionTable<S, E>): Transitions<S, E> {
  return (state, event) => table[state][event];
}

/**
 * A machine over a table of names whose refusal says "<what> event E is not allowed in state S",
 * with { from, event } in its details; `refuse` picks the error class, code and hint.
 */
export function tableMachine<S extends string, E extends string>(
  table: TransitionTable<S, E>,
  what: string,
  refuse: (o: { reason: string; details: { from: S; event: E } }) => EparaError,
): MachineDefinition<S, E> {
  return new MachineDefinition(tableTransitions(table), (from, event) => refuse({ reason: `${what} event ${event} is not allowed in state ${from}`, details: { from, event } }));
}

/** A machine's rules: its transitions and the error a refused input raises. Stateless. */
export class MachineDefinition<S, I> {
  constructor(
    readonly transitions: Transitions<S, I>,
    private readonly refusal: (state: S, input: I) => EparaError,
  ) {}

  /** The next state; throws the definition's refusal when the input is not allowed in `state`. */
  step(state: S, input: I): S {
    const to = this.transitions(state, input);
    if (to === undefined) throw this.refusal(state, input);
    return to;
  }

  allows(state: S, input: I): boolean {
    return this.transitions(state, input) !== undefined;
  }

  /** A running machine starting in `initial`. */
  start(initial: S): StateMachine<S, I> {
    return new StateMachine(this, initial);
  }
}

/** One running machine: the current state and the inputs that move it. */
export class StateMachine<S, I> {
  private current: S;

  constructor(
    readonly definition: MachineDefinition<S, I>,
    initial: S,
  ) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  /** Applies an input; throws the refusal when it is not allowed. Returns the new state. */
  fire(input: I): S {
    this.current = this.definition.step(this.current, input);
    return this.current;
  }

  /** Like fire, but a no-op returning undefined when the input does not apply (e.g. link_lost after close). */
  tryFire(input: I): S | undefined {
    const to = this.definition.transitions(this.current, input);
    if (to === undefined) return undefined;
    this.current = to;
    return to;
  }
}
