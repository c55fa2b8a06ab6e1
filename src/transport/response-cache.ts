/**
 * The last N responses we sent, by the seq of the request they answered. A retransmitted request
 * (the peer missed our answer) is answered again from here, byte for byte, instead of being
 * executed twice. Bounded by count and bytes; Map iteration order makes eviction oldest-first.
 *
 * Why 256 by default: a request stuck in retransmission keeps one window slot while the other
 * slots keep completing; its cached answer must outlive all of those. On a link losing 80% of
 * frames, 256 completions while one request is still unanswered has odds below 1e-30.
 */
export class ResponseCache {
  private readonly entries = new Map<number, { type: number; wire: Uint8Array }>();
  private bytes = 0;
  constructor(
    private readonly capacity: number,
    private readonly maxBytes = Infinity,
  ) {}

  get(seq: number, type: number): Uint8Array | undefined {
    const e = this.entries.get(seq);
    return e && e.type === type ? e.wire : undefined;
  }

  set(seq: number, requestType: number, wire: Uint8Array): void {
    this.evict(seq);
    this.entries.set(seq, { type: requestType, wire });
    this.bytes += wire.length;
    while (this.entries.size > 1 && (this.entries.size > this.capacity || this.bytes > this.maxBytes)) this.evict(this.entries.keys().next().value!);
  }

  private evict(seq: number): void {
    const e = this.entries.get(seq);
    if (!e) return;
    this.bytes -= e.wire.length;
    this.entries.delete(seq);
  }

  get size(): number {
    return this.entries.size;
  }
}
