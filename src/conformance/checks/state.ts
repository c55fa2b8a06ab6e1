/**
 * STATE (SPEC §5.8): a notification on the stateMs period, and `served` counting the requests
 * completed since the LAST STATE (the gateway divides it by the interval to learn the device's
 * speed, so a cumulative counter inflates the estimate and never decays).
 */
import { checkTable } from '../check.js';
import { CheckFailure, expectThat } from '../conform-error.js';
import type { RunContext } from '../context.js';
import { FLAG_RSP } from '../../protocol/constants.js';
import type { StateMessage } from '../../protocol/messages/types.js';
import type { Heard } from '../peer.js';
import { periodic } from './periodic.js';

export const STATE_CHECKS = checkTable('state', {
  period: { id: 'state.period', title: 'STATE notifications every stateMs', spec: '§5.8, §7.2' },
  served: { id: 'state.served-since-last', title: 'STATE served counts completions since the last STATE, not in total', spec: '§5.8' },
});

const isState = (h: Heard): boolean => h.frame?.message.type === 'STATE';

export async function statePeriod(c: RunContext): Promise<void> {
  const { g, r } = c;
  await r.run(STATE_CHECKS.period, async () => {
    const st = g.t.stateMs;
    const { seen: states, worstGapMs: worst } = await periodic(c, 'STATE', st, isState);
    expectThat(states.every((h) => !(h.frame!.header.flags & FLAG_RSP) && h.frame!.header.corr === 0), 'STATE must be a notification (RSP clear, corr 0)');
    return `${states.length} STATEs, longest gap ${worst.toFixed(0)} ms at stateMs ${st}`;
  });
}

function servedOf(m: StateMessage, service: string): number {
  return m.services.find((x) => x.name === service)?.served ?? 0;
}

/** Send `n` requests between two STATEs and read the counters of the STATEs around them. */
export async function stateServed(c: RunContext, runOne: () => Promise<void>): Promise<void> {
  const { g, r } = c;
  if (!c.deployed || !c.artifact?.input) return r.skip(STATE_CHECKS.served, c.noArtifact ?? 'no runnable service deployed (see deploy.transfer)');
  const service = c.deployed.service;
  await r.run(STATE_CHECKS.served, async () => {
    const peer = g.peer;
    const wait = 3 * g.t.stateMs + g.t.answerMs;
    const s0 = await peer.waitFor(isState, wait, peer.mark());
    if (!s0) throw new CheckFailure(`no STATE within ${wait} ms`);
    const start = peer.heard.indexOf(s0) + 1;
    const n = 3;
    for (let i = 0; i < n; i++) await runOne();
    const afterRuns = peer.mark();
    const sa = await peer.waitFor(isState, wait, afterRuns);
    if (!sa) throw new CheckFailure(`no STATE within ${wait} ms after the requests`);
    const sb = await peer.waitFor(isState, wait, peer.heard.indexOf(sa) + 1);
    if (!sb) throw new CheckFailure(`no second STATE within ${wait} ms`);
    const between = peer.heard.slice(start, peer.heard.indexOf(sa) + 1).filter(isState).map((h) => servedOf(h.frame!.message as StateMessage, service));
    const sum = between.reduce((a, b) => a + b, 0);
    const idle = servedOf(sb.frame!.message as StateMessage, service);
    const before = servedOf(s0.frame!.message as StateMessage, service);
    expectThat(sum === n && idle === 0, `${n} requests completed between two STATEs: served reported ${between.join(' + ')} = ${sum} (want ${n}), then ${idle} in the next STATE with no requests (want 0); the STATE before said ${before}. A cumulative counter inflates the gateway's rate estimate and never decays`);
    return `served ${between.join(' + ')} = ${n}, then 0`;
  });
}
