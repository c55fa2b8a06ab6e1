import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LinkError } from '../../src/errors.js';
import type { ByteStream } from '../../src/transport/byte-stream.js';
import { memoryPair } from '../../src/transport/memory.js';
import { ReconnectingConnector } from '../../src/transport/reconnect.js';
import { emulatedSerialPair } from '../../firmware-sims/links/serial-link.js';
import { VirtualClock } from '../../firmware-sims/links/virtual-clock.js';

const fail = (): Promise<ByteStream> => Promise.reject(new LinkError({ code: 'link.open_failed', wire: 304, reason: 'absent', hint: 'plug it in' }));

describe('ReconnectingConnector state transitions', () => {
  it('idle → connecting → connected on start()', async () => {
    const rc = new ReconnectingConnector(async () => memoryPair()[0]);
    expect(rc.status).toBe('idle');
    const s = await rc.start();
    expect(rc.status).toBe('connected');
    expect(rc.current).toBe(s);
    await rc.stop();
    expect(rc.status).toBe('stopped');
    expect(rc.current).toBeUndefined();
  });

  it('connecting → idle with gave-up after maxAttempts', async () => {
    const clock = new VirtualClock();
    const rc = new ReconnectingConnector(fail, { maxAttempts: 3, initialMs: 10, jitter: 0, clock });
    const retries: number[] = [];
    rc.on('retrying', (i) => retries.push(i.delayMs));
    const err = (await clock.run(rc.start().catch((e: unknown) => e))) as LinkError;
    expect(err.code).toBe('link.open_failed');
    expect(err.hint).toBe('plug it in');
    expect(retries).toEqual([10, 20]);
    expect(rc.status).toBe('idle');
  });

  it('connected → connecting on a dropped link, → connected again', async () => {
    const clock = new VirtualClock();
    const controls: Array<() => void> = [];
    const rc = new ReconnectingConnector(
      async () => {
        const [a, , ctl] = emulatedSerialPair({ clock });
        controls.push(ctl.disconnect);
        return a;
      },
      { initialMs: 5, clock },
    );
    const first = (await clock.run(rc.start()))!;
    expect(await rc.nextStream()).toBe(first); // connected: the current stream
    controls[0]!();
    expect(rc.status).toBe('connecting');
    const next = rc.nextStream(); // not connected: waits for the next one
    const second = (await clock.run(next))!;
    expect(second).not.toBe(first);
    expect(rc.status).toBe('connected');
    await rc.stop();
  });

  it('connecting (sleeping between attempts) → stopped on stop(), and no further attempts', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const rc = new ReconnectingConnector(() => {
      calls++;
      return fail();
    }, { initialMs: 100, clock });
    void rc.start().catch(() => undefined);
    await clock.run(new Promise<void>((r) => clock.setTimeout(r, 50)));
    expect(calls).toBe(1);
    await rc.stop();
    await clock.run();
    expect(calls).toBe(1);
    expect(rc.status).toBe('stopped');
  });

  it('start() twice is refused, typed', async () => {
    const rc = new ReconnectingConnector(async () => memoryPair()[0]);
    await rc.start();
    await expect(rc.start()).rejects.toMatchObject({ code: 'link.open_failed' });
    await rc.stop();
  });
});

describe('lazy BLE loading', () => {
  it('importing the transport index does not load noble or the HCI socket module', () => {
    const script = `
      const { createRequire } = await import('node:module');
      await import(${JSON.stringify(new URL('../../src/transport/index.ts', import.meta.url).pathname)});
      const req = createRequire(import.meta.url);
      process.stdout.write(JSON.stringify(Object.keys(req.cache).filter((k) => /noble|hci-socket/.test(k))));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});
