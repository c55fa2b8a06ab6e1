/**
 * The last N responses we sent, by the seq of the request they answered. A retransmitted request
 * (the peer missed our answer) is answered again from here, byte for byte, instead of being
 * executed twice. Bounded by count; Map iteration order makes eviction oldest-first.
 */
export class ResponseCache {
  private readonly entries = new Map<number, { type: number; wire: Uint8Array }>();
  constructor(private readonly capacity: number) {}

  get(seq: number, type: number): Uint8Array | undefined {
    const e = this.entries.get(seq);
    return e && e.type === type ? e.wire : undefined;
  }

  set(seq: number, requestType: number, wire: Uint8Array): void {
    this.entries.delete(seq);
    this.entries.set(seq, { type: requestType, wire });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
