/**
 * Heartbeat and lease (SPEC §5.7, §7.2, §7.3): HEARTBEAT requests on the period WELCOME asked
 * for, with an uptime that never goes back; and a device that stops hearing the gateway gives the
 * link up and says HELLO again (resuming while the lease lasts).
 */
import { checkTable } from '../check.js';
import { CheckFailure, expectThat } from '../conform-error.js';
import type { RunContext } from '../context.js';
import { FLAG_RSP, FLAG_RTX } from '../../protocol/constants.js';
import type { Heard } from '../peer.js';
import { periodic } from './periodic.js';
import { macsEqual } from '../../protocol/auth-mac.js';

export const HEARTBEAT_CHECKS = checkTable('heartbeat', {
  period: { id: 'heartbeat.period', title: 'HEARTBEAT requests every heartbeatMs, uptimeMs never decreasing', spec: '§5.7, §7.2' },
  lease: { id: 'heartbeat.lease', title: 'unanswered heartbeats: the device drops the link and says HELLO again (resume within the lease)', spec: '§7.2, §7.3' },
});

function fresh(h: Heard): boolean {
  return !!h.frame && h.frame.message.type === 'HEARTBEAT' && !(h.frame.header.flags & (FLAG_RSP | FLAG_RTX));
}

export async function heartbeatPeriod(c: RunContext): Promise<void> {
  const { g, r } = c;
  await r.run(HEARTBEAT_CHECKS.period, async () => {
    const hb = g.t.heartbeatMs;
    const { seen: beats, worstGapMs: worst } = await periodic(c, 'HEARTBEAT', hb, fresh);
    let lastUp = -1;
    for (const b of beats) {
      const m = b.frame!.message;
      if (m.type !== 'HEARTBEAT') continue;
      expectThat(m.uptimeMs >= lastUp, `uptimeMs went back from ${lastUp} to ${m.uptimeMs}`);
      lastUp = m.uptimeMs;
    }
    return `${beats.length} heartbeats, longest gap ${worst.toFixed(0)} ms at heartbeatMs ${hb}`;
  });
}

/** Silence from the kit: record it as the lease check (done once, by whichever check drops first). */
export async function leaseBySilence(c: RunContext, drop?: Awaited<ReturnType<RunContext['g']['dropLink']>>): Promise<boolean> {
  const { g, r } = c;
  if (r.skipped('heartbeat') && drop) {
    // the check is off, but the caller still needs the device back
    r.skip(HEARTBEAT_CHECKS.lease, 'family heartbeat skipped by --skip');
    await g.establish();
    return true;
  }
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
