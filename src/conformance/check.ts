/**
 * A conformance check: what it enforces (the SPEC section), its outcome, and the recorder that
 * runs one, times it and turns a thrown CheckFailure into a failed row instead of an exception.
 */
import { EparaError } from '../errors.js';
import { CheckFailure } from './conform-error.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export type Family =
  | 'handshake'
  | 'version'
  | 'auth'
  | 'framing'
  | 'vectors'
  | 'ping'
  | 'heartbeat'
  | 'state'
  | 'deploy'
  | 'infer'
  | 'rtx'
  | 'bye';

export const FAMILIES: readonly Family[] = ['handshake', 'version', 'auth', 'framing', 'vectors', 'ping', 'heartbeat', 'state', 'deploy', 'infer', 'rtx', 'bye'];

export interface CheckDef {
  id: string;
  family: Family;
  title: string;
  /** The SPEC section(s) enforced, e.g. `§5.8`. */
  spec: string;
  /** Optional checks only warn; every check written so far is required unless it says so. */
  required?: boolean;
}

/** One family's checks, each written with its id, title and SPEC section; the family is stated once. */
export function checkTable<K extends string>(family: Family, checks: Record<K, Omit<CheckDef, 'family'>>): Record<K, CheckDef> {
  const table = {} as Record<K, CheckDef>;
  for (const k of Object.keys(checks) as K[]) {
    const { id, title, spec, ...rest } = checks[k];
    table[k] = { id, family, title, spec, ...rest };
  }
  return table;
}

export interface CheckResult {
  id: string;
  family: Family;
  title: string;
  spec: string;
  required: boolean;
  status: CheckStatus;
  /** One line: what was seen (pass), what was wrong (fail), why it did not run (skip). */
  detail: string;
  /** Things the spec asks for that the device did not do, but that this check does not fail on. */
  warnings: string[];
  durationMs: number;
}

export type CheckBody = (warn: (w: string) => void) => Promise<string | void>;

export class Recorder {
  readonly results: CheckResult[] = [];

  constructor(
    private readonly skipFamilies: ReadonlySet<Family> = new Set(),
    private readonly onResult?: (r: CheckResult) => void,
  ) {}

  /** Is this family turned off (`--skip`)? Checks still get a row that says so. */
  skipped(family: Family): boolean {
    return this.skipFamilies.has(family);
  }

  async run(def: CheckDef, body: CheckBody): Promise<boolean> {
    if (this.skipped(def.family)) {
      this.push(def, 'skip', `family ${def.family} skipped by --skip`, [], 0);
      return false;
    }
    const warnings: string[] = [];
    const t0 = performance.now();
    try {
      const detail = await body((w) => warnings.push(w));
      this.push(def, 'pass', detail || 'ok', warnings, performance.now() - t0);
      return true;
    } catch (e) {
      const detail = e instanceof CheckFailure ? e.reason : e instanceof EparaError ? `${e.code}: ${e.reason}` : `kit error: ${(e as Error)?.message ?? String(e)}`;
      this.push(def, 'fail', detail, warnings, performance.now() - t0);
      return false;
    }
  }

  skip(def: CheckDef, reason: string): void {
    this.push(def, 'skip', reason, [], 0);
  }

  private push(def: CheckDef, status: CheckStatus, detail: string, warnings: string[], ms: number): void {
    const r: CheckResult = { id: def.id, family: def.family, title: def.title, spec: def.spec, required: def.required ?? true, status, detail, warnings, durationMs: Math.round(ms) };
    this.results.push(r);
    this.onResult?.(r);
  }
}
