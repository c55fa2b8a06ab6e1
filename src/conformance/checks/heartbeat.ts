/**
 * Heartbeat and lease (SPEC §5.7, §7.2, §7.3): HEARTBEAT requests on the period WELCOME asked
 * for, with an uptime that never goes back; and a device that stops hearing the gateway gives the
 * link up and says HELLO again (resuming while the lease lasts).
 */
import type { CheckDef } from '../check.js';
import { CheckFailure, expectThat } from '../conform-error.js';
import type { RunContext } from '../context.js';
import { FLAG_RSP, FLAG_RTX } from '../../protocol/constants.js';
import type { Heard } from '../peer.js';
import { macsEqual } from '../../protocol/auth-mac.js';

export const HEARTBEAT_CHECKS = {
  period: { id: 'heartbeat.period', family: 'heartbeat', title: 'HEARTBEAT requests every heartbeatMs, uptimeMs never decreasing', spec: '§5.7, §7.2' },
  lease: { id: 'heartbeat.lease', family: 'heartbeat', title: 'unanswered heartbeats: the device drops the link and says HELLO again (resume within the lease)', spec: '§7.2, §7.3' },
} satisfies Record<string, CheckDef>;

function fresh(h: Heard): boolean {
  return !!h.frame && h.frame.message.type === 'HEARTBEAT' && !(h.frame.header.flags & (FLAG_RSP | FLAG_RTX));
}

export async function heartbeatPeriod(c: RunContext): Promise<void> {
  const { g, r } = c;
  await r.run(HEARTBEAT_CHECKS.period, async () => {
    const s = g.session!;
    const hb = g.t.heartbeatMs;
    // at least 3 periods of session to look at
    const need = s.welcomedAt + 3.5 * hb - s.peer.now();
    if (need > 0) await new Promise((res) => setTimeout(res, need));
    const beats = s.peer.heard.filter((h) => h.at >= s.welcomedAt && fresh(h));
    expectThat(beats.length >= 2, `${beats.length} HEARTBEAT(s) in ${(s.peer.now() - s.welcomedAt).toFixed(0)} ms of session with heartbeatMs ${hb}`);
    const first = beats[0]!.at - s.welcomedAt;
    expectThat(first <= 2 * hb + g.t.answerMs, `the first HEARTBEAT came ${first.toFixed(0)} ms after WELCOME (heartbeatMs ${hb}; the gateway marks a device degraded after 2×)`);
    let worst = 0;
    let lastUp = -1;
    for (let i = 0; i < beats.length; i++) {
      const m = beats[i]!.frame!.message;
      if (m.type !== 'HEARTBEAT') continue;
      expectThat(m.uptimeMs >= lastUp, `uptimeMs went back from ${lastUp} to ${m.uptimeMs}`);
      lastUp = m.uptimeMs;
      if (i > 0) worst = Math.max(worst, beats[i]!.at - beats[i - 1]!.at);
    }
    expectThat(worst <= 2 * hb + g.t.answerMs, `a gap of ${worst.toFixed(0)} ms between heartbeats (heartbeatMs ${hb}: the gateway marks the device degraded after 2×)`);
    return `${beats.length} heartbeats, longest gap ${worst.toFixed(0)} ms at heartbeatMs ${hb}`;
  });
}

/** Silence from the kit: record it as the lease check (done once, by whichever check drops first). */
export async function leaseBySilence(c: RunContext, drop?: Awaited<ReturnType<RunContext['g']['dropLink']>>): Promise<boolean> {
  const { g, r } = c;
  return r.run(HEARTBEAT_CHECKS.lease, async (warn) => {
    const before = g.session!;
    const d = drop ?? (await g.dropLinkBySilence());
    const got = await g.nextHello(g.t.helloMs);
    if (!got) throw new CheckFailure(`no HELLO within ${g.t.helloMs} ms after the link was lost`);
    g.unconsume(got.heard);
    if (!got.hello.resume) warn('the HELLO after the lost link carries no resume (§7.3: reconnect with HELLO resume while the lease lasts)');
    else if (!macsEqual(got.hello.resume, before.sessionId)) throw new CheckFailure('HELLO resume names another session than the one WELCOME gave');
    const s = await g.establish();
    const back = await g.registered();
    if (!back.ok) throw new CheckFailure(`after the resumed WELCOME: ${back.why}`);
    return `${d.how === 'silence' ? `went silent: HELLO again after ${d.afterMs.toFixed(0)} ms` : 'link cut: HELLO again'}${s.resumed ? ', session resumed' : ', new session'}`;
  });
}
