/**
 * The values of the CBOR subset (SPEC §4) as the codec hands them out: maps keyed 0..23, tagged
 * byte strings (RFC 8746 typed arrays only), and the subset's limits. Shared by the writer
 * (cbor-subset.ts) and the strict reader (cbor-reader.ts).
 */
/** A CBOR map of the subset: keys are 0..23, so a sparse array indexed by key is enough. */
export class CborMap {
  readonly v: (CborValue | undefined)[] = [];
  get(key: number): CborValue | undefined {
    return this.v[key];
  }
  set(key: number, value: CborValue): this {
    this.v[key] = value;
    return this;
  }
  keys(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.v.length; k++) if (this.v[k] !== undefined) out.push(k);
    return out;
  }
}

/** A tagged byte string (only RFC 8746 typed-array tags are in the subset). */
export class CborTagged {
  constructor(
    readonly tag: number,
    readonly value: Uint8Array,
  ) {}
}

export type CborValue = number | string | boolean | Uint8Array | CborValue[] | CborMap | CborTagged;

/** RFC 8746 little-endian typed-array tags plus uint8 (64) and int8 (72). */
export const ALLOWED_TAGS: ReadonlySet<number> = new Set([64, 69, 70, 72, 77, 78, 79, 85, 86]);
/** Element size of each allowed tag (RFC 8746 §2.1: the byte string is a whole number of elements). */
export const TAG_WIDTH: Record<number, number> = { 64: 1, 69: 2, 70: 4, 72: 1, 77: 2, 78: 4, 79: 8, 85: 4, 86: 8 };
/** Deepest nesting of arrays/maps/tags a receiver must accept (SPEC §4). */
export const MAX_DEPTH = 8;
