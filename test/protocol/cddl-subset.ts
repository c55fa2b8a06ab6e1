/**
 * A small CDDL (RFC 8610) parser and validator for the subset protocol/epara.cddl uses: rules,
 * type choices, int ranges, `.size` / `.le` / `.regexp` controls, maps with integer keys and
 * occurrence indicators, arrays, `#6.N(...)` tags, `&( name: value )` enumerations and the
 * prelude types. It exists so the tests can check the hand-written CDDL against the codec; it is
 * not a general CDDL implementation and throws on anything outside that subset.
 */
import { CborMap, CborTagged, type CborValue } from '../../src/protocol/cbor-subset.js';

export type CType =
  | { k: 'ref'; name: string }
  | { k: 'int'; value: number }
  | { k: 'text'; value: string }
  | { k: 'range'; min: number; max: number }
  | { k: 'choice'; of: CType[] }
  | { k: 'ctl'; base: CType; op: string; arg: CType }
  | { k: 'map'; members: Member[] }
  | { k: 'array'; members: Member[] }
  | { k: 'tag'; tag: number; inner: CType }
  | { k: 'enum'; names: string[]; values: number[] };

export interface Member {
  occur: '' | '?' | '*' | '+';
  /** bounds of an `n*m` occurrence (RFC 8610 §3.2); occur is then '*' */
  min?: number;
  max?: number;
  /** integer map key, or undefined for array elements and wildcard members */
  key?: number;
  /** `type => value` wildcard member */
  keyType?: CType;
  type: CType;
  /** the `; name` comment after the member */
  comment?: string;
  /** `name:` label on an array element */
  label?: string;
}

interface Tok {
  t: string;
  v: string;
  line: number;
}

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s+|;([^\n]*)|("(?:[^"\\]|\\.)*")|(#6\.\d+)|(=>|\.\.|[=/,:{}[\]()?*+&])|(\.[a-z]+)|(-?\d+)|([A-Za-z_$@][A-Za-z0-9_$@-]*)/gy;
  let m: RegExpExecArray | null;
  let line = 1;
  re.lastIndex = 0;
  while (re.lastIndex < src.length) {
    const at = re.lastIndex;
    m = re.exec(src);
    if (!m || m.index !== at) throw new Error(`cddl: cannot lex at line ${line}: ${src.slice(at, at + 20)}`);
    const [all, comment, str, tag, punct, ctl, num, id] = m;
    if (comment !== undefined) out.push({ t: 'comment', v: comment.trim(), line });
    else if (str !== undefined) out.push({ t: 'str', v: JSON.parse(str), line });
    else if (tag !== undefined) out.push({ t: 'tag', v: tag.slice(3), line });
    else if (punct !== undefined) out.push({ t: punct, v: punct, line });
    else if (ctl !== undefined) out.push({ t: 'ctl', v: ctl, line });
    else if (num !== undefined) out.push({ t: 'num', v: num, line });
    else if (id !== undefined) out.push({ t: 'id', v: id, line });
    line += (all.match(/\n/g) ?? []).length;
  }
  return out;
}

export function parseCddl(src: string): Map<string, CType> {
  const all = lex(src);
  let i = 0;
  const peek = (skipComments = true) => {
    let j = i;
    while (skipComments && all[j]?.t === 'comment') j++;
    return all[j];
  };
  const next = () => {
    while (all[i]?.t === 'comment') i++;
    return all[i++];
  };
  const expect = (t: string) => {
    const tok = next();
    if (tok?.t !== t) throw new Error(`cddl: expected ${t} at line ${tok?.line}, got ${tok?.v}`);
    return tok;
  };

  function type(): CType {
    const first = type1();
    const of = [first];
    while (peek()?.t === '/') {
      next();
      of.push(type1());
    }
    return of.length === 1 ? first : { k: 'choice', of };
  }
  function type1(): CType {
    const base = type2();
    const p = peek();
    if (p?.t === '..') {
      next();
      const hi = type2();
      if (base.k !== 'int' || hi.k !== 'int') throw new Error('cddl: ranges only between integer literals');
      return { k: 'range', min: base.value, max: hi.value };
    }
    if (p?.t === 'ctl') {
      next();
      return { k: 'ctl', base, op: p.v, arg: type2() };
    }
    return base;
  }
  function type2(): CType {
    const tok = next();
    if (!tok) throw new Error('cddl: unexpected end');
    switch (tok.t) {
      case 'num':
        return { k: 'int', value: Number(tok.v) };
      case 'str':
        return { k: 'text', value: tok.v };
      case 'id':
        return { k: 'ref', name: tok.v };
      case '{':
        return { k: 'map', members: group('}') };
      case '[':
        return { k: 'array', members: group(']') };
      case '(': {
        const t = type();
        expect(')');
        return t;
      }
      case 'tag': {
        expect('(');
        const inner = type();
        expect(')');
        return { k: 'tag', tag: Number(tok.v), inner };
      }
      case '&': {
        expect('(');
        const names: string[] = [];
        const values: number[] = [];
        while (peek()?.t !== ')') {
          names.push(expect('id').v);
          expect(':');
          values.push(Number(expect('num').v));
          if (peek()?.t === ',') next();
        }
        expect(')');
        return { k: 'enum', names, values };
      }
      default:
        throw new Error(`cddl: unexpected ${tok.v} at line ${tok.line}`);
    }
  }
  function group(close: string): Member[] {
    const members: Member[] = [];
    while (peek()?.t !== close) {
      let occur: Member['occur'] = '';
      const p = peek()!;
      let bounds: { min?: number; max?: number } = {};
      const after = all.slice(i).filter((x) => x.t !== 'comment');
      if (p.t === 'num' && after[1]?.t === '*' && after[2]?.t === 'num') {
        // n*m occurrence
        bounds = { min: Number(next()!.v) };
        next();
        bounds.max = Number(next()!.v);
        occur = '*';
      } else if (p.t === '?' || p.t === '*' || p.t === '+') {
        occur = p.t;
        next();
      }
      const m: Member = { occur, ...bounds, type: { k: 'ref', name: 'any' } };
      const a = peek()!;
      const b = all.slice(i).filter((x) => x.t !== 'comment')[1];
      if (a.t === 'num' && b?.t === ':') {
        next();
        next();
        m.key = Number(a.v);
        m.type = type();
      } else if (a.t === 'id' && b?.t === ':') {
        next();
        next();
        m.label = a.v;
        m.type = type();
      } else {
        const t = type();
        if (peek()?.t === '=>') {
          next();
          m.keyType = t;
          m.type = type();
        } else m.type = t;
      }
      if (peek()?.t === ',') next();
      // a comment right after the member (same line) names it
      const c = all[i];
      if (c?.t === 'comment') m.comment = c.v;
      members.push(m);
    }
    expect(close);
    return members;
  }

  const rules = new Map<string, CType>();
  while (peek()) {
    const name = expect('id').v;
    expect('=');
    rules.set(name, type());
  }
  return rules;
}

// ---------------------------------------------------------------------------------------------
// validation

const utf8Len = (s: string) => Buffer.byteLength(s, 'utf8');

export class CddlValidator {
  constructor(readonly rules: Map<string, CType>) {}

  /** undefined when `v` matches rule `name`, else a description of the first mismatch. */
  check(name: string, v: CborValue): string | undefined {
    return this.match({ k: 'ref', name }, v, name);
  }

  private match(t: CType, v: CborValue | undefined, path: string): string | undefined {
    const fail = (what: string) => `${path}: expected ${what}`;
    switch (t.k) {
      case 'ref':
        switch (t.name) {
          case 'any':
            return v === undefined ? fail('a value') : undefined;
          case 'uint':
            return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? undefined : fail('uint');
          case 'nint':
            return typeof v === 'number' && Number.isInteger(v) && v < 0 ? undefined : fail('nint');
          case 'int':
            return typeof v === 'number' && Number.isInteger(v) ? undefined : fail('int');
          case 'tstr':
          case 'text':
            return typeof v === 'string' ? undefined : fail('tstr');
          case 'bstr':
          case 'bytes':
            return v instanceof Uint8Array ? undefined : fail('bstr');
          case 'bool':
            return typeof v === 'boolean' ? undefined : fail('bool');
          case 'true':
            return v === true ? undefined : fail('true');
          case 'false':
            return v === false ? undefined : fail('false');
          default: {
            const r = this.rules.get(t.name);
            if (!r) throw new Error(`cddl: undefined rule ${t.name}`);
            return this.match(r, v, path);
          }
        }
      case 'int':
        return v === t.value ? undefined : fail(String(t.value));
      case 'text':
        return v === t.value ? undefined : fail(JSON.stringify(t.value));
      case 'range':
        return typeof v === 'number' && Number.isInteger(v) && v >= t.min && v <= t.max ? undefined : fail(`${t.min}..${t.max}`);
      case 'enum':
        return typeof v === 'number' && t.values.includes(v) ? undefined : fail(`one of ${t.values.join(',')}`);
      case 'choice': {
        const errs: string[] = [];
        for (const c of t.of) {
          const e = this.match(c, v, path);
          if (e === undefined) return undefined;
          errs.push(e);
        }
        return `${path}: no choice matched (${errs[0]})`;
      }
      case 'tag':
        if (!(v instanceof CborTagged) || v.tag !== t.tag) return fail(`tag ${t.tag}`);
        return this.match(t.inner, v.value, `${path}#${t.tag}`);
      case 'ctl': {
        const e = this.match(t.base, v, path);
        if (e) return e;
        const arg = t.arg;
        switch (t.op) {
          case '.size': {
            const n = typeof v === 'string' ? utf8Len(v) : (v as Uint8Array).length;
            if (arg.k === 'int') return n === arg.value ? undefined : fail(`size ${arg.value}`);
            if (arg.k === 'range') return n >= arg.min && n <= arg.max ? undefined : fail(`size ${arg.min}..${arg.max}`);
            throw new Error('cddl: .size needs an int or a range');
          }
          case '.le':
            if (arg.k !== 'int') throw new Error('cddl: .le needs an int');
            return (v as number) <= arg.value ? undefined : fail(`<= ${arg.value}`);
          case '.regexp':
            if (arg.k !== 'text') throw new Error('cddl: .regexp needs a string');
            return new RegExp(`^(?:${arg.value})$`, 'u').test(v as string) ? undefined : fail(`match ${arg.value}`);
          default:
            throw new Error(`cddl: control ${t.op} not supported`);
        }
      }
      case 'map': {
        if (!(v instanceof CborMap)) return fail('map');
        const seen = new Set<number>();
        let wildcard: Member | undefined;
        for (const m of t.members) {
          if (m.keyType) {
            wildcard = m;
            continue;
          }
          if (m.key === undefined) throw new Error('cddl: map members need integer keys here');
          const mv = v.get(m.key);
          if (mv === undefined) {
            if (m.occur === '' || m.occur === '+') return `${path}: missing key ${m.key}${m.comment ? ` (${m.comment})` : ''}`;
            continue;
          }
          seen.add(m.key);
          // `:` implies a cut: a known key with a bad value fails instead of falling to the wildcard
          const e = this.match(m.type, mv, `${path}.${m.comment ?? m.key}`);
          if (e) return e;
        }
        for (const k of v.keys()) {
          if (seen.has(k)) continue;
          if (!wildcard) return `${path}: unexpected key ${k}`;
          const ek = this.match(wildcard.keyType!, k, `${path}[key ${k}]`);
          if (ek) return ek;
          const ev = this.match(wildcard.type, v.get(k), `${path}.${k}`);
          if (ev) return ev;
        }
        return undefined;
      }
      case 'array': {
        if (!Array.isArray(v)) return fail('array');
        let at = 0;
        for (const m of t.members) {
          const min = m.min ?? (m.occur === '' || m.occur === '+' ? 1 : 0);
          const max = m.max ?? (m.occur === '' || m.occur === '?' ? 1 : Infinity);
          let n = 0;
          while (n < max && at < v.length && this.match(m.type, v[at], `${path}[${at}]`) === undefined) {
            at++;
            n++;
          }
          if (n < min) return at < v.length ? this.match(m.type, v[at], `${path}[${at}]`) : `${path}: too few items`;
        }
        return at === v.length ? undefined : `${path}[${at}]: ${this.match(t.members[t.members.length - 1]!.type, v[at], `${path}[${at}]`) ?? 'unexpected extra item'}`;
      }
    }
  }
}
