import type { Readable, Writable } from 'node:stream';
import { CliError } from '../cli-error.js';
import { stripAnsi } from '../output.js';

export interface ExpectMatch<K extends string> {
  key: K;
  match: RegExpExecArray;
}

/**
 * A tiny `expect` for interactive tools (bluetoothctl): send a line, wait until one of several
 * patterns shows up in the output. Prompts such as "[agent] Enter PIN code: " end without a
 * newline, so patterns are matched against the raw text, not whole lines. Colour escapes are
 * stripped first. The buffer is bounded: only the unread tail is kept.
 */
export class LineExpect {
  private text = '';
  private ended = false;
  private wake: (() => void) | undefined;
  /** Everything the tool printed, ANSI-free, for --verbose and error messages (bounded). */
  transcript = '';

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly onText?: (s: string) => void,
  ) {
    input.setEncoding('utf8');
    input.on('data', (d: string) => {
      const clean = stripAnsi(d);
      this.text = (this.text + clean).slice(-65_536);
      this.transcript = (this.transcript + clean).slice(-16_384);
      this.onText?.(clean);
      this.wake?.();
    });
    input.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  send(line: string): void {
    if (!this.output.destroyed) this.output.write(line + '\n');
  }

  /** Wait for the earliest match of any pattern; consume the text up to it. */
  async expect<K extends string>(patterns: Record<K, RegExp>, timeoutMs: number): Promise<ExpectMatch<K> | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let best: ExpectMatch<K> | undefined;
      for (const key of Object.keys(patterns) as K[]) {
        const re = new RegExp(patterns[key].source, patterns[key].flags.replace('g', ''));
        const m = re.exec(this.text);
        if (m && (!best || m.index < best.match.index)) best = { key, match: m };
      }
      if (best) {
        this.text = this.text.slice(best.match.index + best.match[0].length);
        return best;
      }
      const left = deadline - Date.now();
      if (this.ended || left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.wake = undefined;
          resolve();
        }, left);
        this.wake = () => {
          clearTimeout(t);
          this.wake = undefined;
          resolve();
        };
      });
    }
  }

  /** The last few lines of output, to quote in an error. */
  tail(lines = 3): string {
    return this.transcript
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-lines)
      .join(' | ');
  }

  get closed(): boolean {
    return this.ended;
  }
}

export function expectTimeout(what: string, tail: string, hint: string): CliError {
  return new CliError({ code: 'cli.bt_timeout', reason: `timed out waiting for ${what}${tail ? ` (last output: ${tail})` : ''}`, hint });
}
