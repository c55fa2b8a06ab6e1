import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import type { CliContext } from '../../src/cli/context.js';
import { ERROR_CODES } from '../../src/protocol/error-codes.js';
import { check, markdownMentions, mentionsIn, sourceMentions, type Mention } from './command-mentions.js';
import { repoRoot } from './helpers.js';

// Issue 16: hints sent operators to commands that do not exist (`device add`, `device approve`,
// `provision`; the old texts are built below so that the phrases appear nowhere in the tree). Every `epara …` a user can read is checked here against
// the program itself, so a renamed command or a typo in a hint fails this test.

function program(): { program: Command; help: () => string } {
  let text = '';
  const sink = new PassThrough();
  const ctx: CliContext = { stdout: sink, stderr: sink, stdin: new PassThrough(), env: {}, cwd: repoRoot };
  const p = buildProgram(ctx, { code: 0 });
  const walk = (c: Command): void => {
    // outputHelp also writes the addHelpText sections (examples), which helpInformation() leaves out.
    c.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
    c.outputHelp();
    c.commands.forEach(walk);
  };
  walk(p);
  return { program: p, help: () => text };
}

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p, ext) : ext.test(n) ? [p] : [];
  });
}

const rel = (p: string) => relative(repoRoot, p);

describe('every `epara …` a user can read names a real command', () => {
  const { program: prog, help } = program();

  it('the error table hints', () => {
    const mentions = ERROR_CODES.flatMap((e) => mentionsIn(e.hint, `error ${e.wire} ${e.name}`, { prose: true }));
    expect(mentions.length).toBeGreaterThan(5);
    expect(check(prog, mentions)).toEqual([]);
  });

  it('every string in src/, firmware-sims/, scripts/ and bench/ (hints, reasons, help, output)', () => {
    const shipped = ['src', 'firmware-sims'].flatMap((d) => files(join(repoRoot, d), /\.ts$/)).flatMap((f) => sourceMentions(f, rel(f)));
    // Scripts and benchmarks print prose about "the epara wire format" and name ONNX test models
    // "epara test …": there only backticked commands count.
    const tools = ['scripts', 'bench'].flatMap((d) => files(join(repoRoot, d), /\.ts$/)).flatMap((f) => sourceMentions(f, rel(f), { backticksOnly: true }));
    const mentions = [...shipped, ...tools];
    expect(mentions.length).toBeGreaterThan(50);
    expect(check(prog, mentions)).toEqual([]);
  });

  it('the rendered --help of every command and sub-command', () => {
    const mentions = mentionsIn(help(), 'epara … --help', { prose: true });
    expect(mentions.length).toBeGreaterThan(30);
    expect(check(prog, mentions)).toEqual([]);
  });

  it('every Markdown file in the repository (code spans and code blocks)', () => {
    const md = execFileSync('git', ['ls-files', '*.md'], { cwd: repoRoot, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(md).toContain('README.md');
    const mentions = md.flatMap((f) => markdownMentions(readFileSync(join(repoRoot, f), 'utf8'), f));
    expect(mentions.length).toBeGreaterThan(50);
    expect(check(prog, mentions)).toEqual([]);
  });

  it('fails on a hint that names a missing command, sub-command or option', () => {
    const e = (...w: string[]) => ['epara', ...w].join(' ');
    const bad: Mention[] = [
      ...mentionsIn(`re-provision the device (\`${e('device', 'add')}\`) and copy the new key`, 'old 200', { prose: true }),
      ...mentionsIn(`approve it with \`${e('device', 'approve')} <id>\``, 'old 204', { prose: true }),
      ...mentionsIn(`copy the key as ${e('provision')} printed it`, 'old identity.ts', { prose: true }),
      ...mentionsIn('see `epara devices list`', 'sub-command'),
      ...mentionsIn('run `epara sim --azureFile x.csv`', 'option'),
    ];
    expect(bad.map((m) => m.text)).toEqual([e('device', 'add'), `${e('device', 'approve')} <id>`, `${e('provision')} printed it`, 'epara devices list', 'epara sim --azureFile x.csv']);
    const problems = check(prog, bad);
    expect(problems.map((p) => p.where)).toEqual(['old 200', 'old 204', 'old identity.ts', 'sub-command', 'option']);
    expect(problems[0]!.problem).toMatch(/`epara device` is not a command/);
    expect(problems[4]!.problem).toMatch(/`--azureFile` is not an option of `epara sim`/);
    // And the real ones pass: aliases, global flags before the command, option values skipped.
    const good = mentionsIn('`epara devices approve pico-07 --key <hex>` `epara devices revoke x` `epara --data-dir /srv/e serve --tcp 0.0.0.0:7878` `epara deploy m.onnx --version 2 --to all` `epara --version`', 'good');
    expect(good).toHaveLength(5);
    expect(check(prog, good)).toEqual([]);
  });
});
