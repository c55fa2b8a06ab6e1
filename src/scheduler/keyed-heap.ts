/**
 * A binary min-heap of values ordered by two numbers, (key, seq), compared inline. The hot queues
 * (the simulator's events, every device's EDF queues) use it instead of `Heap`: one `Heap` class
 * serving several comparators makes its `less` call site megamorphic, so no comparison is inlined,
 * and each comparison chased pointers into the items. Here the numbers sit in their own arrays.
 * With `seq` unique the order is total, so the pop order is the same as any heap's on (key, seq).
 */
const less = (k1: number, s1: number, k2: number, s2: number): boolean => k1 < k2 || (k1 === k2 && s1 < s2);

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
    let i = this.vals.length;
    this.keys.push(key);
    this.seqs.push(seq);
    this.vals.push(value);
    // Sift up with a hole: parents move down into it, the new item is placed once.
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(key, seq, this.keys[p]!, this.seqs[p]!)) break;
      this.move(p, i);
      i = p;
    }
    this.put(i, key, seq, value);
  }

  pop(): T | undefined {
    const { keys, seqs, vals } = this;
    if (vals.length === 0) return undefined;
    const top = vals[0]!;
    const key = keys.pop()!;
    const seq = seqs.pop()!;
    const value = vals.pop()!;
    const n = vals.length;
    if (n === 0) return top;
    let i = 0;
    for (let l = 1; l < n; l = 2 * i + 1) {
      const c = l + 1 < n && less(keys[l + 1]!, seqs[l + 1]!, keys[l]!, seqs[l]!) ? l + 1 : l;
      if (!less(keys[c]!, seqs[c]!, key, seq)) break;
      this.move(c, i);
      i = c;
    }
    this.put(i, key, seq, value);
    return top;
  }

  private move(from: number, to: number): void {
    this.keys[to] = this.keys[from]!;
    this.seqs[to] = this.seqs[from]!;
    this.vals[to] = this.vals[from]!;
  }

  private put(i: number, key: number, seq: number, value: T): void {
    this.keys[i] = key;
    this.seqs[i] = seq;
    this.vals[i] = value;
  }
}
