// Fake external tool: records its arguments and plays back a recorded transcript.
//
// Usage (from the wrapper scripts next to this file): node play.mjs <tool> [args...]
// Environment:
//   FAKE_BIN_LOG   append one JSON line per run: { tool, args, input: [lines read from stdin] }
//   FAKE_SCENARIO  directory of transcripts; the first that exists of
//                  <tool>.<args[0]>.txt, <tool>.noargs.txt (no args), <tool>.txt is played.
// Transcript lines:
//   > text     print text + "\n" on stdout          >> text   print text without newline (prompts)
//   ! text     print text + "\n" on stderr          ~ ms      pause
//   < text     read one stdin line, it must equal text (else print bluetoothctl's
//              "Invalid command" and exit 3, so a test sees the divergence)
//   <*         read one stdin line, whatever it is    $ exit N  exit with status N (default 0)
//   # ...      comment.  "\e" in text is ESC (tools colour their output).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [tool, ...args] = process.argv.slice(2);
const input = [];
const log = () => {
  if (process.env.FAKE_BIN_LOG) appendFileSync(process.env.FAKE_BIN_LOG, JSON.stringify({ tool, args, input }) + '\n');
};

const dir = process.env.FAKE_SCENARIO;
const candidates = [args.length ? `${tool}.${args[0]}.txt` : `${tool}.noargs.txt`, `${tool}.txt`];
const file = dir && candidates.map((c) => join(dir, c)).find((p) => existsSync(p));
if (!file) {
  log();
  process.stderr.write(`fake ${tool}: no transcript for args ${JSON.stringify(args)} in ${dir}\n`);
  process.exit(99);
}

const lines = readFileSync(file, 'utf8').split('\n');
const rl = createInterface({ input: process.stdin });
const queue = [];
let waiting;
let stdinEnded = false;
rl.on('line', (l) => {
  input.push(l);
  if (waiting) {
    const w = waiting;
    waiting = undefined;
    w(l);
  } else queue.push(l);
});
rl.on('close', () => {
  stdinEnded = true;
  if (waiting) waiting(undefined);
});
const nextLine = () => (queue.length ? Promise.resolve(queue.shift()) : stdinEnded ? Promise.resolve(undefined) : new Promise((r) => (waiting = r)));
const esc = (s) => s.replace(/\\e/g, '\u001b');
const write = (stream, s) => new Promise((r) => (stream.write(s) ? r() : stream.once('drain', r)));

let code = 0;
for (const raw of lines) {
  if (raw.startsWith('#') || raw.trim() === '') continue;
  if (raw.startsWith('>> ')) await write(process.stdout, esc(raw.slice(3)));
  else if (raw.startsWith('> ')) await write(process.stdout, esc(raw.slice(2)) + '\n');
  else if (raw === '>') await write(process.stdout, '\n');
  else if (raw.startsWith('! ')) await write(process.stderr, esc(raw.slice(2)) + '\n');
  else if (raw.startsWith('~ ')) await new Promise((r) => setTimeout(r, Number(raw.slice(2))));
  else if (raw === '<*') await nextLine();
  else if (raw.startsWith('< ')) {
    const want = raw.slice(2);
    const got = await nextLine();
    if (got !== want) {
      await write(process.stdout, `Invalid command in menu main: ${got}\n`);
      process.stderr.write(`fake ${tool}: expected input ${JSON.stringify(want)}, got ${JSON.stringify(got)}\n`);
      code = 3;
      break;
    }
  } else if (raw.startsWith('$ exit ')) code = Number(raw.slice(7));
}
rl.close();
log();
process.exit(code);
