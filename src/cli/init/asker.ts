import { createInterface, type Interface } from 'node:readline/promises';
import type { CliContext } from '../context.js';

/**
 * The questions of `epara init`. Each has a flag: a flag's value is the answer and nothing is
 * asked; with --yes every unanswered question takes its default, so init runs unattended.
 * Questions go to stderr (stdout keeps the result, `--json` included).
 */
export interface Asker {
  /** The answer to `question`: `given` when a flag set it, else typed (empty = `def`), else `def`. */
  ask(question: string, def: string, given?: string): Promise<string>;
  /** y/n, same rules. */
  confirm(question: string, def: boolean, given?: boolean): Promise<boolean>;
  close(): void;
}

export function unattended(): Asker {
  return {
    ask: async (_q, def, given) => given ?? def,
    confirm: async (_q, def, given) => given ?? def,
    close: () => undefined,
  };
}

export function interactive(ctx: CliContext): Asker {
  let rl: Interface | undefined;
  const line = async (prompt: string): Promise<string> => {
    rl ??= createInterface({ input: ctx.stdin, output: ctx.stderr, terminal: ctx.stderr.isTTY === true });
    return (await rl.question(prompt)).trim();
  };
  return {
    ask: async (q, def, given) => (given !== undefined ? given : (await line(`${q}${def ? ` [${def}]` : ''}: `)) || def),
    confirm: async (q, def, given) => {
      if (given !== undefined) return given;
      for (;;) {
        const a = (await line(`${q} [${def ? 'Y/n' : 'y/N'}]: `)).toLowerCase();
        if (a === '') return def;
        if (a === 'y' || a === 'yes') return true;
        if (a === 'n' || a === 'no') return false;
      }
    },
    close: () => rl?.close(),
  };
}
