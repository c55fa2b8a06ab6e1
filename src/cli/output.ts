import type { CliContext, OutStream } from './context.js';
import { EparaError } from '../errors.js';

/** Global presentation flags shared by every command. */
export interface OutputFlags {
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  /** commander's `--no-color` sets this to false. */
  color?: boolean;
}

type Paint = (s: string) => string;

/**
 * Colours are used only when the stream is a terminal, NO_COLOR is unset (https://no-color.org:
 * any value, even empty, disables), TERM is not `dumb`, and --no-color was not given. FORCE_COLOR
 * (non-empty, not `0`) turns them on for a non-terminal, as in most Node CLIs.
 */
export function colorEnabled(stream: OutStream, env: NodeJS.ProcessEnv, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

function painter(on: boolean, open: number, close: number): Paint {
  return on ? (s) => `\u001b[${open}m${s}\u001b[${close}m` : (s) => s;
}

export interface Palette {
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
}

export function palette(on: boolean): Palette {
  return {
    bold: painter(on, 1, 22),
    dim: painter(on, 2, 22),
    red: painter(on, 31, 39),
    green: painter(on, 32, 39),
    yellow: painter(on, 33, 39),
    cyan: painter(on, 36, 39),
  };
}

/** Remove ANSI escapes, for width computations and for parsing tools that colour their output. */
export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;?]*[A-Za-z]|\u001b\][^\u0007]*\u0007|\r/g, '');
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: 'left' | 'right';
  /** Paint applied after padding, so colours never break alignment. */
  paint?: (cell: string, row: T) => string;
}

/** A plain aligned table: two spaces between columns, no borders, readable over SSH and in logs. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], pal: Palette): string {
  const cells = rows.map((r) => columns.map((c) => c.value(r)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => stripAnsi(row[i]!).length)));
  const pad = (s: string, w: number, align: 'left' | 'right' = 'left') => {
    const fill = ' '.repeat(Math.max(0, w - stripAnsi(s).length));
    return align === 'right' ? fill + s : s + fill;
  };
  const lines = [columns.map((c, i) => pal.bold(pad(c.header, widths[i]!, c.align))).join('  ').trimEnd()];
  rows.forEach((row, r) => {
    lines.push(
      columns
        .map((c, i) => {
          const padded = pad(cells[r]![i]!, widths[i]!, c.align);
          return c.paint ? c.paint(padded, row) : padded;
        })
        .join('  ')
        .trimEnd(),
    );
  });
  return lines.join('\n') + '\n';
}

/**
 * The one place a command writes to the user. Data goes to stdout (a table, or one JSON document
 * with --json); progress, steps, warnings and errors go to stderr so `epara devices --json | jq`
 * never sees them. --quiet silences progress; --verbose adds detail lines.
 */
export class Output {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly quiet: boolean;
  /** Colours for stdout. */
  readonly c: Palette;
  /** Colours for stderr (may differ: `epara devices > file` still colours progress on the terminal). */
  readonly e: Palette;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly stderrIsTTY: boolean;

  constructor(ctx: CliContext, flags: OutputFlags) {
    this.json = flags.json === true;
    this.verbose = flags.verbose === true && flags.quiet !== true;
    this.quiet = flags.quiet === true;
    this.stdout = ctx.stdout;
    this.stderr = ctx.stderr;
    this.c = palette(!this.json && colorEnabled(ctx.stdout, ctx.env, flags.color));
    this.e = palette(colorEnabled(ctx.stderr, ctx.env, flags.color));
    this.stderrIsTTY = ctx.stderr.isTTY === true;
  }

  /** Print a command's result: `value` as JSON with --json, else the human rendering. */
  result(value: unknown, human: () => string): void {
    if (this.json) this.stdout.write(JSON.stringify(value, null, 2) + '\n');
    else {
      const text = human();
      if (text) this.stdout.write(text.endsWith('\n') ? text : text + '\n');
    }
  }

  /** Progress and status lines (stderr; silent with --quiet). */
  info(line: string): void {
    if (!this.quiet) this.stderr.write(line + '\n');
  }

  detail(line: string): void {
    if (this.verbose) this.stderr.write(this.e.dim(line) + '\n');
  }

  warn(line: string): void {
    this.stderr.write(this.e.yellow('warning: ') + line + '\n');
  }

  /** One step of a multi-step procedure (pair, hc05, flash): `✓ label  detail` / `✗ label  detail`. */
  step(ok: boolean | 'skip', label: string, detail = ''): void {
    if (this.quiet) return;
    const mark = ok === 'skip' ? this.e.dim('-') : ok ? this.e.green('✓') : this.e.red('✗');
    this.stderr.write(`${mark} ${label}${detail ? '  ' + this.e.dim(detail) : ''}\n`);
  }

  /** Errors: the three-line human form on stderr; with --json also `{ "error": {...} }` on stdout. */
  error(err: EparaError): void {
    if (this.json) this.stdout.write(JSON.stringify({ error: err.toJSON() }, null, 2) + '\n');
    const wire = err.wire !== undefined ? ` [${err.wire}]` : '';
    const field = err.field ? ` (${err.field})` : '';
    this.stderr.write(`${this.e.red(this.e.bold('error'))} ${this.e.bold(err.code)}${wire}: ${err.reason}${field}\n`);
    this.stderr.write(`  ${this.e.cyan('hint:')} ${err.hint}\n`);
    if (this.verbose && err.details) this.stderr.write(this.e.dim(`  details: ${JSON.stringify(err.details)}`) + '\n');
  }
}
