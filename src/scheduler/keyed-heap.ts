/**
 * A binary min-heap of values ordered by two numbers, (key, seq), compared inline. The hot queues
 * (the simulator's events, every device's EDF queues) use it instead of `Heap`: one `Heap` class
 * serving several comparators makes its `less` call site megamorphic, so no comparison is inlined,
 * and each comparison chased pointers into the items. Here the numbers sit in their own arrays.
 * With `seq` unique the order is total, so the pop order is the same as any heap's on (key, seq).
 */
export class KeyedHeap<T> {
  private readonly keys: number[] = [];
  private readonly seqs: number[] = [];
  private readonly vals: T[] = [];

  get size(): number {
    return this.vals.length;
  }

  peek(): T | undefined {
    return this.vals[0];
  }

  /** The smallest key, or Infinity when empty. */
  peekKey(): number {
    return this.vals.length > 0 ? this.keys[0]! : Infinity;
  }

  push(key: number, seq: number, value: T): void {
    const { keys, seqs, vals } = this;
    let i = vals.length;
    keys.push(key);
    seqs.push(seq);
    vals.push(value);
    // Sift up with a hole: parents move down into it, the new item is placed once.
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pk = keys[p]!;
      if (!(key < pk || (key === pk && seq < seqs[p]!))) break;
      keys[i] = pk;
      seqs[i] = seqs[p]!;
      vals[i] = vals[p]!;
      i = p;
    }
    keys[i] = key;
    seqs[i] = seq;
    vals[i] = value;
  }

  pop(): T | undefined {
    const { keys, seqs, vals } = this;
    if (vals.length === 0) return undefined;
    const top = vals[0]!;
    const key = keys.pop()!;
    const seq = seqs.pop()!;
    const value = vals.pop()!;
    const n = vals.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (keys[r]! < keys[l]! || (keys[r] === keys[l] && seqs[r]! < seqs[l]!)) ? r : l;
        const ck = keys[c]!;
        if (!(ck < key || (ck === key && seqs[c]! < seq))) break;
        keys[i] = ck;
        seqs[i] = seqs[c]!;
        vals[i] = vals[c]!;
        i = c;
      }
      keys[i] = key;
      seqs[i] = seq;
      vals[i] = value;
    }
    return top;
  }
}
