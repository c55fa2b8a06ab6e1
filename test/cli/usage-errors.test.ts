import { describe, expect, it } from 'vitest';
import { epara } from './helpers.js';

type Err = { error: { code: string; reason: string; hint: string } };

// Issue 21, defect 5: usage errors ignored --json and carried no code, and `--servce` was
// reported as a missing `--service` instead of an unknown option with a suggestion.
describe('usage errors are typed errors', () => {
  it('a mistyped option is reported as unknown, with a suggestion, before the mandatory one it misses', async () => {
    const r = await epara(['deploy', 'm.onnx', '--servce', 'classifier', '--category', 'latency-single', '--to', 'all']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error cli\.unknown_option: unknown option '--servce'\n  hint: \(Did you mean --service\?\) `epara deploy --help` lists them all\n$/);
    expect(r.stderr).not.toContain("'--service <name>' not specified");
  });

  it('--json puts each kind of usage error on stdout as {"error": {code, reason, hint}} (exit 2)', async () => {
    const cases: Array<[string[], string, RegExp, string]> = [
      [['prots'], 'cli.unknown_command', /unknown command 'prots'/, 'epara'],
      [['ports', '--bogus'], 'cli.unknown_option', /unknown option '--bogus'/, 'epara ports'],
      [['flash'], 'cli.missing_argument', /missing required argument/, 'epara flash'],
      [['deploy', 'm.onnx', '--category', 'latency-single', '--to', 'all'], 'cli.missing_option', /required option '--service <name>' not specified/, 'epara deploy'],
      [['register', 'x-1', '--class', 'toaster'], 'cli.bad_value', /'toaster' is invalid\. Allowed choices are .*fpga/, 'epara register'],
      [['deploy', 'm.onnx', '--service'], 'cli.missing_value', /option '--service <name>' argument missing/, 'epara deploy'],
      [['devices', 'show'], 'cli.missing_argument', /missing required argument 'id'/, 'epara devices show'],
    ];
    for (const [args, code, reason, help] of cases) {
      const r = await epara([...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      const e = r.json<Err>().error;
      expect(e.code, args.join(' ')).toBe(code);
      expect(e.reason, args.join(' ')).toMatch(reason);
      expect(e.hint, args.join(' ')).toContain(`\`${help} --help\``);
    }
  });

  it('--json anywhere on the line counts, and the human form stays on stderr', async () => {
    const r = await epara(['--json', 'ports', '--bogus']);
    expect(r.json<Err>().error.code).toBe('cli.unknown_option');
    expect(r.stderr).toContain("error cli.unknown_option: unknown option '--bogus'");
  });
});
