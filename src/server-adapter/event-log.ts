import type { StreamEvent, StreamEventData, StreamEventKind, StreamGapData } from './event-stream-types.js';

/**
 * The last N events of this server run, each with its id, and the listeners that want the next
 * ones: what GET /events resumes from (`Last-Event-ID`) and the MQTT bridge subscribes to.
 * A fixed-size ring, so memory is bounded whatever the fleet does; a resume older than the ring
 * gets a `stream.gap` instead of a silent hole. Pure apart from the clock passed in.
 */
export type EventListener = (e: StreamEvent) => void;

export interface Resume {
  /** Present when the resume cannot be served without a hole: send it first. */
  gap?: StreamEvent<'stream.gap'>;
  /** The buffered events after the given id (all buffered ones after a gap). */
  events: StreamEvent[];
}

export class EventLog {
  private readonly ring: Array<StreamEvent | undefined>;
  /** seq of the next event; the oldest buffered one is max(1, next - capacity). */
  private next = 1;
  private readonly listeners = new Set<EventListener>();
  /** Names this server run in every id, so an id from an earlier run is told apart. */
  readonly boot: string;

  constructor(
    readonly capacity: number,
    private readonly now: () => number = Date.now,
    /** Default: the start time in base 36 and two random base-36 digits (two runs in one millisecond differ). */
    boot?: string,
  ) {
    this.ring = new Array<StreamEvent | undefined>(capacity);
    this.boot = boot ?? now().toString(36) + Math.floor(Math.random() * 36 * 36).toString(36).padStart(2, '0');
  }

  append<K extends StreamEventKind>(kind: K, data: StreamEventData[K]): StreamEvent<K> {
    const seq = this.next++;
    const e = { id: `${this.boot}-${seq}`, kind, at: this.now(), data } as StreamEvent<K> & StreamEvent;
    this.ring[seq % this.capacity] = e;
    for (const l of this.listeners) {
      // One broken listener must not stop the others (nor the server code that appended).
      try {
        l(e);
      } catch {
        /* the listener's own problem */
      }
    }
    return e;
  }

  /** Calls `listener` for every event appended from now on; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  /** Id of the newest event, or undefined before the first. */
  get lastId(): string | undefined {
    return this.next > 1 ? `${this.boot}-${this.next - 1}` : undefined;
  }

  private get oldestSeq(): number {
    return Math.max(1, this.next - this.capacity);
  }

  /** Buffered events from seq `from` on. */
  private from(from: number): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (let s = Math.max(from, this.oldestSeq); s < this.next; s++) out.push(this.ring[s % this.capacity]!);
    return out;
  }

  /** What a client that last saw `lastEventId` missed, or a gap event saying why that cannot be told. */
  resume(lastEventId: string): Resume {
    const m = /^([0-9a-z]+)-(\d{1,15})$/.exec(lastEventId);
    const gap = (g: Omit<StreamGapData, 'lastEventId' | 'oldestId'>): Resume => {
      const events = this.from(1);
      const data: StreamGapData = { ...g, lastEventId: lastEventId.slice(0, 64) };
      if (events[0]) data.oldestId = events[0].id;
      // Not appended to the ring: it concerns this client alone. Its id is the one just before the
      // oldest buffered event, so a client that drops during the replay resumes into the replay.
      return { gap: { id: `${this.boot}-${this.oldestSeq - 1}`, kind: 'stream.gap', at: this.now(), data }, events };
    };
    if (!m) return gap({ reason: 'unknown' });
    if (m[1] !== this.boot) return gap({ reason: 'restart' });
    const seq = Number(m[2]);
    if (seq >= this.next) return gap({ reason: 'unknown' });
    // Resuming right after `seq` needs seq + 1 still in the ring.
    if (seq + 1 < this.oldestSeq) return gap({ reason: 'buffer', missed: this.oldestSeq - seq - 1 });
    return { events: this.from(seq + 1) };
  }
}
