import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEVICE_SESSION_TRANSITIONS } from '../../src/client/session.js';
import { DEPLOYMENT_TRANSITIONS } from '../../src/device-mgmt/deployment/state-machine.js';
import { Session, SESSION_TRANSITIONS } from '../../src/device-mgmt/session.js';
import { MessageType, ROLES, type HelloMessage, type MessageName, type Peer } from '../../src/protocol/index.js';
import { LINK_MACHINE, type LinkPhase } from '../../src/server-adapter/connection.js';

/**
 * docs/architecture.md says where each message is handled and draws each state machine; this
 * holds it to the code, so the page cannot drift: the message rows against the catalogue and the
 * handler tables in the files they name, the diagrams against the transition tables.
 */
const ROOT = new URL('../../', import.meta.url);
const DOC = readFileSync(new URL('docs/architecture.md', ROOT), 'utf8');
const src = (p: string) => new URL(`src/${p}`, ROOT);

interface Row {
  type: number;
  name: MessageName;
  from: string;
  kind: string;
  answer: string;
  server: string;
  device: string;
}

function rows(): Row[] {
  const out: Row[] = [];
  for (const line of DOC.split('\n')) {
    const c = line.split('|').map((s) => s.trim());
    if (!/^0x[0-9A-F]{2}$/.test(c[1] ?? '')) continue;
    out.push({ type: parseInt(c[1]!, 16), name: c[2] as MessageName, from: c[3]!, kind: c[4]!, answer: c[5]!, server: c[6]!, device: c[7]! });
  }
  return out;
}

const paths = (cell: string) => [...cell.matchAll(/`([a-z0-9/-]+\.ts)`/g)].map((m) => m[1]!);
const receives = (p: Peer, n: MessageName) => ROLES[n].kind !== 'response' && ROLES[n].from !== p;
/** For a response, the request it answers: a file that reads the answer names the request. */
const requestOf = (n: MessageName) => (Object.keys(ROLES) as MessageName[]).find((r) => (ROLES[r] as { answer?: string }).answer === n);

describe('docs/architecture.md, message by message', () => {
  const table = rows();

  it('has one row per catalogue message with its number, direction, kind and answer', () => {
    expect(table.map((r) => r.name).sort()).toEqual((Object.keys(MessageType) as MessageName[]).sort());
    for (const r of table) {
      const role = ROLES[r.name] as { from: string; kind: string; answer?: string };
      expect([r.type, r.from, r.kind, r.answer], r.name).toEqual([MessageType[r.name], role.from, role.kind, role.answer ?? '']);
    }
  });

  for (const side of ['server', 'device'] as const) {
    it(`names, for the ${side}, a file with the table entry of every message it receives, and real files for the rest`, () => {
      for (const r of table) {
        const cell = r[side];
        const files = paths(cell);
        expect(files.length, `${r.name} (${side})`).toBeGreaterThan(0);
        for (const f of files) expect(existsSync(src(f)), f).toBe(true);
        const texts = files.map((f) => readFileSync(src(f), 'utf8'));
        if (receives(side, r.name)) {
          expect(cell.startsWith('handles '), `${r.name} is received by the ${side}: "${cell}"`).toBe(true);
          // The first file named is the handler: it holds the table entry `NAME: (…) =>`.
          expect(texts[0], `${files[0]} has no ${r.name} entry`).toMatch(new RegExp(`\\b${r.name}: `));
        } else {
          expect(cell.startsWith('handles '), `${r.name} never reaches the ${side} unsolicited: "${cell}"`).toBe(false);
        }
        const names = [r.name, requestOf(r.name)].filter((n): n is MessageName => n !== undefined);
        for (const [i, t] of texts.entries()) expect(names.some((n) => t.includes(n)), `${files[i]} does not mention ${names.join(' / ')}`).toBe(true);
      }
    });
  }
});

/** The transitions drawn in the mermaid block under the heading that names `marker`. */
function drawn(marker: string): string[] {
  const at = DOC.indexOf(marker);
  expect(at, marker).toBeGreaterThan(0);
  const block = DOC.slice(DOC.indexOf('```mermaid', at), DOC.indexOf('```\n', DOC.indexOf('```mermaid', at) + 3));
  return [...block.matchAll(/^\s+([a-z_]+) --> ([a-z_]+) : ([a-z_]+)$/gm)].map((m) => `${m[1]} -${m[3]}-> ${m[2]}`).sort();
}

function fromTable(t: Readonly<Record<string, Partial<Record<string, string>>>>): string[] {
  const id = (s: string) => s.replace(/-/g, '_');
  return Object.entries(t)
    .flatMap(([from, evs]) => Object.entries(evs).map(([ev, to]) => `${id(from)} -${ev}-> ${id(to!)}`))
    .sort();
}

describe('docs/architecture.md, machine by machine', () => {
  it('draws the server session table', () => expect(drawn('`SESSION_TRANSITIONS`')).toEqual(fromTable(SESSION_TRANSITIONS)));
  it('draws the deployment table', () => expect(drawn('`DEPLOYMENT_TRANSITIONS`')).toEqual(fromTable(DEPLOYMENT_TRANSITIONS)));
  it('draws the device session table', () => expect(drawn('`DEVICE_SESSION_TRANSITIONS`')).toEqual(fromTable(DEVICE_SESSION_TRANSITIONS)));

  it("draws the link handshake machine: every (phase, input) it allows, and only those", () => {
    const hello = { type: 'HELLO', deviceId: 'd' } as HelloMessage;
    const limits = { maxFrame: 256, window: 1, keepaliveMs: 100 };
    const session = new Session('d', new Uint8Array(8), 0);
    const phases: LinkPhase[] = [
      { value: 'hello' },
      { value: 'auth', hello, version: 1, limits, nonce: new Uint8Array(16), helloAt: 0 },
      { value: 'ready', hello, version: 1, limits, session },
      { value: 'closed', deviceId: 'd', session: undefined },
    ];
    const inputs: Array<Parameters<typeof LINK_MACHINE.step>[1]> = [
      { value: 'challenged', hello, version: 1, limits, nonce: new Uint8Array(16), at: 0 },
      { value: 'auth_received' },
      { value: 'welcomed', session },
      { value: 'rehello' },
      { value: 'close', deviceId: undefined },
    ];
    const allowed = phases.flatMap((p) => inputs.flatMap((i) => {
      const to = LINK_MACHINE.transitions(p, i);
      return to ? [`${p.value} -${i.value}-> ${to.value}`] : [];
    }));
    expect(drawn('`LINK_MACHINE`')).toEqual(allowed.sort());
  });
});
