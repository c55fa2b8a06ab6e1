/** What the device sent on a period (HEARTBEAT, STATE) since WELCOME, after waiting 3.5 periods of session. */
import { expectThat } from '../conform-error.js';
import type { RunContext } from '../context.js';
import type { Heard } from '../peer.js';

export async function periodic(c: RunContext, what: string, periodMs: number, pred: (h: Heard) => boolean): Promise<{ seen: Heard[]; worstGapMs: number }> {
  const s = c.g.session!;
  const need = s.welcomedAt + 3.5 * periodMs - s.peer.now();
  if (need > 0) await new Promise((res) => setTimeout(res, need));
  const seen = s.peer.heard.filter((h) => h.at >= s.welcomedAt && pred(h));
  expectThat(seen.length >= 2, `${seen.length} ${what}(s) in ${(s.peer.now() - s.welcomedAt).toFixed(0)} ms of session with a period of ${periodMs} ms`);
  let worstGapMs = seen[0]!.at - s.welcomedAt;
  for (let i = 1; i < seen.length; i++) worstGapMs = Math.max(worstGapMs, seen[i]!.at - seen[i - 1]!.at);
  // the gateway marks a device degraded after 2 periods of silence (§7.2)
  expectThat(worstGapMs <= 2 * periodMs + c.g.t.answerMs, `a gap of ${worstGapMs.toFixed(0)} ms in the ${what}s at a period of ${periodMs} ms (the gateway marks the device degraded after 2×)`);
  return { seen, worstGapMs };
}
