import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import ts from 'typescript';

/**
 * Finds `epara <words>` in text and checks each against the real CLI program: the first word must
 * be a command, a following word must be a sub-command where the command has sub-commands, and
 * every `--flag` must be an option of that command or of a command above it. Used by
 * hints-name-real-commands.test.ts over error hints, every string in src/, the docs and the
 * rendered help, so a hint that sends the operator to a command that does not exist fails a test.
 */

/** Words that follow "epara" in prose ("the epara server") and are not meant as a command. */
export const PROSE_WORDS = new Set(['server', 'client', 'workload', 'registry', 'gateway', 'version', 'protocol', 'keys', 'v1', 'peers', 'project', 'command', 'role', 'speaks']);

export interface Mention {
  text: string;
  where: string;
}

export interface Problem extends Mention {
  problem: string;
}

/** `epara` then tokens up to something that ends a command line in prose, a table or a shell. */
const MENTION = /(?<![\w/.@-])epara((?:[ \t]+[^\s`'"()|;,&#\\{}]+)*)/g;

/** Every mention in a plain string (a hint, a help text, one code span). */
export function mentionsIn(text: string, where: string, opts: { prose?: boolean } = {}): Mention[] {
  const out: Mention[] = [];
  for (const m of text.matchAll(MENTION)) {
    const words: string[] = [];
    // A word ending in ':' or '.' ends the command line ("epara conform: done", "an epara gateway.").
    for (const w of m[1]!.trim().split(/\s+/).filter(Boolean)) {
      if (/^\d*>/.test(w)) break; // a shell redirect: `epara … > out.json`
      const end = /[:.]$/.test(w) && !/^\.+$|…$/.test(w);
      words.push(end ? w.replace(/[:.]+$/, '') : w);
      if (end) break;
    }
    if (words.length === 0 || words[0] === '') continue;
    if (opts.prose && PROSE_WORDS.has(words[0]!)) continue;
    out.push({ text: `epara ${words.join(' ')}`, where });
  }
  return out;
}

/** Mentions in Markdown: inside code spans and fenced code blocks only (the rest is prose). */
export function markdownMentions(md: string, where: string): Mention[] {
  const out: Mention[] = [];
  const lines = md.split('\n');
  let fenced = false;
  lines.forEach((line, i) => {
    const at = `${where}:${i + 1}`;
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return;
    }
    // Fenced blocks, and indented blocks whose line is a command.
    if (fenced || /^ {4,}(\$ )?epara /.test(line)) {
      out.push(...mentionsIn(line.replace(/^\s*\$\s+/, ''), at));
      return;
    }
    for (const span of line.matchAll(/`([^`]+)`/g)) out.push(...mentionsIn(span[1]!, at));
  });
  return out;
}

/** Mentions in the string literals and template texts of a TypeScript file (comments are prose). */
export function sourceMentions(file: string, where: string, opts: { backticksOnly?: boolean } = {}): Mention[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: Mention[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      const line = src.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      // Inside a string a command is usually in backticks; prose words are skipped outside them.
      const text = node.text;
      const spans = [...text.matchAll(/`([^`]+)`/g)].map((s) => s[1]!);
      for (const s of spans) out.push(...mentionsIn(s, `${where}:${line}`));
      if (!opts.backticksOnly) out.push(...mentionsIn(text.replace(/`[^`]+`/g, ' '), `${where}:${line}`, { prose: true }));
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return out;
}

/** Commander keeps the default sub-command's name private; `epara devices --pending` runs `devices ls`. */
function defaultSub(cmd: Command): Command | undefined {
  const name = (cmd as unknown as { _defaultCommandName?: string })._defaultCommandName;
  return name ? cmd.commands.find((c) => c.name() === name) : undefined;
}

function optionNames(cmd: Command): Set<string> {
  // runCli answers a lone `epara --version` itself (-V is the program's flag, --version deploy's).
  const names = new Set(['--help', '-h', ...(cmd.parent ? [] : ['--version'])]);
  for (const o of cmd.options as readonly Option[]) {
    if (o.long) names.add(o.long);
    if (o.short) names.add(o.short);
  }
  return names;
}

/** The innermost command's meaning of a flag wins (`deploy --version <v>` over the program's -V). */
function needsValue(chain: Command[], flag: string): boolean {
  for (const c of [...chain].reverse()) for (const o of c.options as readonly Option[]) if (o.long === flag || o.short === flag) return o.required;
  return false;
}

/** Why a mention does not name a real command line, or undefined when it does. */
export function checkMention(program: Command, text: string): string | undefined {
  const tokens = text.split(/\s+/).slice(1);
  const chain: Command[] = [program];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const cmd = chain[chain.length - 1]!;
    if (/^--?[A-Za-z]/.test(t)) {
      const flag = t.split('=')[0]!.replace(/[.…]+$/, '');
      const implied = defaultSub(cmd);
      if (implied && !chain.some((c) => optionNames(c).has(flag)) && optionNames(implied).has(flag)) chain.push(implied);
      if (!chain.some((c) => optionNames(c).has(flag))) return `\`${flag}\` is not an option of \`${chain.map((c) => c.name()).join(' ')}\``;
      if (!t.includes('=') && needsValue(chain, flag)) i++;
      continue;
    }
    if (cmd.commands.length > 0 && /^[a-z][a-z0-9-]*$/.test(t)) {
      const sub = cmd.commands.find((c) => c.name() === t || c.aliases().includes(t));
      if (!sub) return `\`${chain.map((c) => c.name()).join(' ')} ${t}\` is not a command (${chain.length === 1 ? 'commands' : 'sub-commands'}: ${cmd.commands.map((c) => c.name()).join(', ')})`;
      chain.push(sub);
      continue;
    }
    // A positional argument, a placeholder (<id>, FILE, …) or the prose after a leaf command.
  }
  return undefined;
}

export function check(program: Command, mentions: Mention[]): Problem[] {
  const out: Problem[] = [];
  for (const m of mentions) {
    const problem = checkMention(program, m.text);
    if (problem) out.push({ ...m, problem });
  }
  return out;
}
