import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { epara, sandbox, until, type Sandbox } from './helpers.js';
import { freePort, haveMosquitto, mosquittoMissing, mosquittoSub, startMosquitto, type Broker, type Subscriber } from '../server-adapter/helpers/mosquitto.js';

// Issue 20, what it must show: `mosquitto_sub -t 'epara/#' -v` shows availability and state as a
// fleet connects, with `epara serve --mqtt` and `epara fleet` as a user runs them.
let sb: Sandbox | undefined;
let broker: Broker | undefined;
let sub: Subscriber | undefined;
afterAll(async () => {
  await sub?.stop();
  await broker?.cleanup();
  sb?.cleanup();
});

describe.skipIf(!haveMosquitto)(`epara serve --mqtt + epara fleet against a real mosquitto${haveMosquitto ? '' : ` (skipped: ${mosquittoMissing})`}`, () => {
  it("mosquitto_sub -t 'epara/#' -v shows availability and state as the fleet connects; config.json's serve.mqtt works the same", async () => {
    sb = sandbox({ fakeTools: false });
    const dd = ['--data-dir', sb.dataDir];
    broker = await startMosquitto();
    sub = mosquittoSub(broker.port, ['epara/#']);
    const stopServe = new AbortController();
    // From config.json, as `epara init` users would set it (the flag wins when both are given).
    mkdirSync(sb.dataDir, { recursive: true });
    writeFileSync(join(sb.dataDir, 'config.json'), JSON.stringify({ serve: { mqtt: `mqtt://127.0.0.1:${broker.port}`, mqttPrefix: 'epara' } }));
    const serve = epara([...dd, 'serve', '--tcp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--state-sync-ms', '200'], { env: sb.env, signal: stopServe.signal });
    const stopFleet = new AbortController();
    let fleet: ReturnType<typeof epara> | undefined;
    try {
      await until('serve.json', () => (existsSync(join(sb!.dataDir, 'serve.json')) ? true : undefined));
      await sub.next((t, p) => t === 'epara/bridge/state' && p === 'online');
      fleet = epara([...dd, 'fleet', '--devices', '2', '--profile', 'microcomputer', '--time-scale', '0', '--seed', '6'], { env: sb.env, signal: stopFleet.signal });
      for (const id of ['microcomputer-1', 'microcomputer-2']) {
        await sub.next((t, p) => t === `epara/${id}/availability` && p === 'online', 20_000);
        const st = await sub.next((t, p) => t === `epara/${id}/state` && p.includes('"load"'), 20_000);
        expect(JSON.parse(st.payload)).toMatchObject({ status: expect.stringMatching(/registered|active/), deviceClass: 'microcomputer', load: expect.any(Number) });
      }
      // What the terminal shows: `topic payload` lines.
      expect(sub.lines.some((l) => /^epara\/microcomputer-1\/availability online$/.test(l))).toBe(true);
      stopFleet.abort();
      await fleet.catch(() => undefined);
      await sub.next((t, p) => t === 'epara/microcomputer-1/availability' && p === 'offline', 20_000);
    } finally {
      stopFleet.abort();
      await fleet?.catch(() => undefined);
      stopServe.abort();
      const r = await serve;
      expect(r.stderr).toMatch(/mqtt: connected to mqtt:\/\/127\.0\.0\.1:\d+/);
    }
    // Stopping serve says so on the bridge topic (retained), for Home Assistant to grey everything out.
    await sub.next((t, p) => t === 'epara/bridge/state' && p === 'offline', 5000);
  }, 60_000);

  it('a bad --mqtt URL stops serve with its hint; a broker that is down is logged and serve runs on', async () => {
    const s2 = sandbox({ fakeTools: false });
    try {
      const bad = await epara(['--data-dir', s2.dataDir, 'serve', '--tcp', '127.0.0.1:0', '--mqtt', 'http://127.0.0.1:1883'], { env: s2.env });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/config\.mqtt_url/);
      expect(bad.stderr).toMatch(/--mqtt mqtt:\/\/host:1883/);
      const port = await freePort();
      const stop = new AbortController();
      const down = epara(['--data-dir', s2.dataDir, 'serve', '--tcp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--mqtt', `mqtt://127.0.0.1:${port}`], { env: s2.env, signal: stop.signal });
      await until('serve.json', () => (existsSync(join(s2.dataDir, 'serve.json')) ? true : undefined));
      // The gateway answers while the broker is away.
      const devs = await epara(['--data-dir', s2.dataDir, 'devices', '--json'], { env: s2.env });
      expect(devs.code).toBe(0);
      stop.abort();
      const r = await down;
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`mqtt: mqtt\\.unreachable: cannot reach the MQTT broker at mqtt://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
    } finally {
      s2.cleanup();
    }
  });
});
