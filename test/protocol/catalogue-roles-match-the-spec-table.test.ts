import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRequestType, isResponseType, MessageType, ROLES, type EventsTo, type Handlers, type MessageName, type RequestsTo } from '../../src/protocol/index.js';

const SPEC = readFileSync(new URL('../../protocol/SPEC.md', import.meta.url), 'utf8');
const DIR = { D: 'device', S: 'server', both: 'both' } as const;
const KIND = { req: 'request', rsp: 'response', ntf: 'event', 'rsp or ntf': 'response-or-event' } as const;

/** The rows of SPEC §5's message table: | 0x01 | HELLO | D | req | → CHALLENGE or ERROR | */
function specRows(): Array<{ type: number; name: string; from: string; kind: string; answer?: string }> {
  const rows = [];
  for (const line of SPEC.split('\n')) {
    const m = /^\| 0x([0-9A-F]{2}) \| ([A-Z_]+) \| (D|S|both) \| (req|rsp|ntf|rsp or ntf) \|(.*)\|$/.exec(line);
    if (!m) continue;
    const answer = /^→ ([A-Z_]+)/.exec(m[5]!.trim())?.[1];
    rows.push({ type: parseInt(m[1]!, 16), name: m[2]!, from: DIR[m[3] as keyof typeof DIR], kind: KIND[m[4] as keyof typeof KIND], ...(answer ? { answer } : {}) });
  }
  return rows;
}

describe('the catalogue roles', () => {
  it('are the direction, kind and answer columns of SPEC §5, row for row', () => {
    const rows = specRows();
    expect(rows.length).toBe(Object.keys(MessageType).length);
    for (const r of rows) {
      expect(MessageType[r.name as MessageName], r.name).toBe(r.type);
      expect(ROLES[r.name as MessageName], r.name).toEqual({ from: r.from, kind: r.kind, ...(r.answer ? { answer: r.answer } : {}) });
    }
  });

  it('derive the request and response sets (the ones listed by hand before)', () => {
    const req = (Object.keys(MessageType) as MessageName[]).filter((n) => isRequestType(MessageType[n]));
    const rsp = (Object.keys(MessageType) as MessageName[]).filter((n) => isResponseType(MessageType[n]));
    expect(req.sort()).toEqual(['AUTH', 'DEPLOY_CHUNK', 'DEPLOY_COMMIT', 'DEPLOY_OFFER', 'HEARTBEAT', 'HELLO', 'INFER_REQUEST', 'PING', 'PLACEMENT']);
    expect(rsp.sort()).toEqual(['CHALLENGE', 'DEPLOY_ACCEPT', 'DEPLOY_CHUNK_ACK', 'HEARTBEAT_ACK', 'INFER_RESPONSE', 'PLACEMENT_ACK', 'PONG', 'WELCOME']);
    expect(isRequestType(0x7f)).toBe(false);
  });

  it('name the messages each side must handle (checked by the compiler too)', () => {
    const server: Record<RequestsTo<'server'> | EventsTo<'server'>, true> = { HELLO: true, AUTH: true, PING: true, HEARTBEAT: true, BYE: true, STATE: true, ERROR: true, DEPLOY_RESULT: true };
    const device: Record<RequestsTo<'device'> | EventsTo<'device'>, true> = {
      PING: true,
      PLACEMENT: true,
      DEPLOY_OFFER: true,
      DEPLOY_CHUNK: true,
      DEPLOY_COMMIT: true,
      INFER_REQUEST: true,
      BYE: true,
      ERROR: true,
      INFER_CANCEL: true,
    };
    expect(Object.keys(server).length).toBe(8);
    expect(Object.keys(device).length).toBe(9);
    const ok = () => undefined;
    // @ts-expect-error: a device table without INFER_CANCEL does not compile.
    const missing: Handlers<'device', unknown, undefined> = { PING: ok, PLACEMENT: ok, DEPLOY_OFFER: ok, DEPLOY_CHUNK: ok, DEPLOY_COMMIT: ok, INFER_REQUEST: ok, BYE: ok, ERROR: ok };
    expect(Object.keys(missing)).not.toContain('INFER_CANCEL');
  });
});
