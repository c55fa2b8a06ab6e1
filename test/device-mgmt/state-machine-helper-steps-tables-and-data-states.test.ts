import { describe, expect, it } from 'vitest';
import { EparaError } from '../../src/errors.js';
import { MachineDefinition, tableTransitions } from '../../src/state-machine.js';
import { LINK_MACHINE, type LinkPhase } from '../../src/server-adapter/connection.js';
import { Session } from '../../src/device-mgmt/session.js';
import type { HelloMessage } from '../../src/protocol/index.js';

const refuse = (s: unknown, i: unknown) => new EparaError({ code: 'internal', reason: `${String(i)} not allowed in ${String(s)}`, hint: 'a test' });

describe('the state-machine helper', () => {
  const def = new MachineDefinition<'off' | 'on', 'press' | 'cut'>(tableTransitions({ off: { press: 'on' }, on: { press: 'off', cut: 'off' } }), refuse);

  it('steps a table, and refuses what the table does not allow with the definition error', () => {
    expect(def.step('off', 'press')).toBe('on');
    expect(def.step('on', 'cut')).toBe('off');
    expect(def.allows('off', 'cut')).toBe(false);
    expect(() => def.step('off', 'cut')).toThrowError(expect.objectContaining({ code: 'internal', reason: 'cut not allowed in off' }));
  });

  it('runs a machine: fire throws and leaves the state, tryFire is a no-op', () => {
    const m = def.start('off');
    expect(m.fire('press')).toBe('on');
    expect(m.tryFire('cut')).toBe('off');
    expect(m.tryFire('cut')).toBeUndefined();
    expect(m.state).toBe('off');
    expect(() => m.fire('cut')).toThrow(EparaError);
    expect(m.state).toBe('off');
  });
});

describe("the server link's handshake machine (states carry their data)", () => {
  const hello = { type: 'HELLO', deviceId: 'pi-1' } as HelloMessage;
  const limits = { maxFrame: 1024, window: 4, keepaliveMs: 1000 };
  const nonce = new Uint8Array(16).fill(7);
  const challenged = { value: 'challenged', hello, version: 1, limits, nonce, at: 5 } as const;
  const session = new Session('pi-1', new Uint8Array(8), 5);
  const auth = LINK_MACHINE.step({ value: 'hello' }, challenged);

  it('hello --challenged--> auth, holding the HELLO, the limits, the nonce and when it came', () => {
    expect(auth).toEqual({ value: 'auth', hello, version: 1, limits, nonce, helloAt: 5 });
  });
  it('auth --auth_received--> auth with the nonce spent (a second AUTH is a replay)', () => {
    expect(LINK_MACHINE.step(auth, { value: 'auth_received' })).toEqual({ ...auth, nonce: undefined });
  });
  it('auth --welcomed--> ready, holding the session and no nonce', () => {
    const ready = LINK_MACHINE.step(auth, { value: 'welcomed', session });
    expect(ready).toEqual({ value: 'ready', hello, version: 1, limits, session });
    expect('nonce' in ready).toBe(false);
  });
  it('ready --rehello--> hello (a rebooted device on the same UART)', () => {
    const ready = LINK_MACHINE.step(auth, { value: 'welcomed', session });
    expect(LINK_MACHINE.step(ready, { value: 'rehello' })).toEqual({ value: 'hello' });
  });
  it('close from every open phase keeps who it was and, from ready, the session', () => {
    const ready = LINK_MACHINE.step(auth, { value: 'welcomed', session });
    expect(LINK_MACHINE.step({ value: 'hello' }, { value: 'close', deviceId: undefined })).toEqual({ value: 'closed', deviceId: undefined, session: undefined });
    expect(LINK_MACHINE.step({ value: 'hello' }, { value: 'close', deviceId: 'x' })).toEqual({ value: 'closed', deviceId: 'x', session: undefined });
    expect(LINK_MACHINE.step(auth, { value: 'close', deviceId: undefined })).toEqual({ value: 'closed', deviceId: 'pi-1', session: undefined });
    expect(LINK_MACHINE.step(ready, { value: 'close', deviceId: undefined })).toEqual({ value: 'closed', deviceId: 'pi-1', session });
  });
  it('refuses everything else', () => {
    const ready = LINK_MACHINE.step(auth, { value: 'welcomed', session });
    const closed = LINK_MACHINE.step(ready, { value: 'close', deviceId: undefined });
    const refused: Array<[LinkPhase, Parameters<typeof LINK_MACHINE.step>[1]]> = [
      [{ value: 'hello' }, { value: 'auth_received' }],
      [{ value: 'hello' }, { value: 'welcomed', session }],
      [{ value: 'hello' }, { value: 'rehello' }],
      [auth, challenged],
      [auth, { value: 'rehello' }],
      [ready, challenged],
      [ready, { value: 'auth_received' }],
      [ready, { value: 'welcomed', session }],
      [closed, challenged],
      [closed, { value: 'auth_received' }],
      [closed, { value: 'welcomed', session }],
      [closed, { value: 'rehello' }],
      [closed, { value: 'close', deviceId: undefined }],
    ];
    for (const [p, i] of refused) expect(() => LINK_MACHINE.step(p, i), `${p.value} --${i.value}-->`).toThrowError(expect.objectContaining({ code: 'internal' }));
  });
});
