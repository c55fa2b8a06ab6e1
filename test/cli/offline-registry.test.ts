import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { epara, sandbox, type Sandbox } from './helpers.js';

let sb: Sandbox;
afterEach(() => sb?.cleanup());

type Err = { error: { code: string; reason: string; hint: string } };

// Issue 21, defect 7: offline commands with a wrong data dir silently created a new registry and
// master.key there.
describe('offline registry commands on a data dir without a registry', () => {
  it('refuse without --init and create nothing; --init creates it; later commands need no flag', async () => {
    sb = sandbox({ fakeTools: false });
    const typo = join(sb.root, 'dta');
    for (const args of [['register', 'pi-01', '--class', 'microcomputer'], ['devices'], ['devices', 'show', 'pi-01'], ['devices', 'rm', 'pi-01'], ['devices', 'approve', 'pi-01']]) {
      const r = await epara(['--data-dir', typo, ...args, '--json'], { env: sb.env });
      expect(r.code, args.join(' ')).toBe(1);
      const e = r.json<Err>().error;
      expect(e.code).toBe('cli.no_registry');
      expect(e.reason).toBe(`no epara registry in ${typo} (the directory does not exist), and no server is running for it`);
      expect(e.hint).toContain('--init');
      expect(existsSync(typo), args.join(' ')).toBe(false);
    }
    // An existing directory without a registry (a wrong but real path) is refused the same way.
    const r = await epara(['--data-dir', sb.root, 'devices', '--json'], { env: sb.env });
    expect(r.json<Err>().error.reason).toBe(`no epara registry in ${sb.root}, and no server is running for it`);
    expect(readdirSync(sb.root)).not.toContain('master.key');

    const init = await epara(['--data-dir', sb.dataDir, 'register', 'pi-01', '--class', 'microcomputer', '--init', '--json'], { env: sb.env });
    expect(init.code).toBe(0);
    expect(existsSync(join(sb.dataDir, 'registry.sqlite'))).toBe(true);
    expect((await epara(['--data-dir', sb.dataDir, 'register', 'pi-02', '--class', 'microcomputer', '--json'], { env: sb.env })).code).toBe(0);
    const ls = await epara(['--data-dir', sb.dataDir, 'devices', '--json'], { env: sb.env });
    expect(ls.json<Array<{ id: string }>>().map((d) => d.id)).toEqual(['pi-01', 'pi-02']);
  });
});
