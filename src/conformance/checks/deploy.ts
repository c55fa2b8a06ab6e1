/**
 * Deployment (SPEC §5.11, §7.5): a transfer to `ready`, go-back-N (an out-of-order or duplicate
 * chunk is dropped and the ack repeats nextOffset), rollback when the hash is bad, and resume
 * from the persisted offset after the link drops and after the device restarts.
 */
import { checkTable } from '../check.js';
import { CheckFailure, expectThat } from '../conform-error.js';
import type { RunContext } from '../context.js';
import { describe } from '../gateway.js';
import { sha256 } from '../artifacts.js';
import type { DeployResultMessage, Message } from '../../protocol/messages/types.js';
import { FLAG_RSP, WINDOW_MAX, WINDOW_MIN } from '../../protocol/constants.js';
import { PING_CHECKS, echo } from './ping.js';
import { leaseBySilence } from './heartbeat.js';

export const DEPLOY_CHECKS = checkTable('deploy', {
  transfer: { id: 'deploy.transfer', title: 'OFFER → ACCEPT 0 → CHUNKs acked in order → COMMIT → ready, then STATE lists it', spec: '§5.11, §7.5' },
  goBackN: { id: 'deploy.go-back-n', title: 'an out-of-order or duplicate chunk is dropped; the ack repeats nextOffset', spec: '§5.11' },
  badHash: { id: 'deploy.bad-hash-rollback', title: 'a bad SHA-256 fails with 400 and the previous version keeps serving', spec: '§7.5 verifying/failed' },
  resumeDrop: { id: 'deploy.resume-after-drop', title: 'after the link drops, the same OFFER resumes at the acked offset', spec: '§5.11, §7.3' },
  resumeRestart: { id: 'deploy.resume-after-restart', title: 'after a device restart, the same OFFER resumes at the acked offset', spec: '§5.11, §7.5' },
});

const FINAL = new Set(['ready', 'failed', 'rolled-back']);

interface Transfer {
  id: number;
  version: string;
  bytes: Uint8Array;
  sha: Uint8Array;
  chunkSize: number;
}

function newTransfer(c: RunContext, v: number, badHash = false): Transfer {
  const bytes = c.artifact!.bytes(v);
  const sha = Uint8Array.from(sha256(bytes));
  if (badHash) sha[0] = sha[0]! ^ 0xff;
  const mf = c.g.session!.maxFrame;
  // at least four chunks, so that a transfer has a middle to drop the link in
  const chunkSize = Math.max(1, Math.min(mf - 34, Math.ceil(bytes.length / 4)));
  return { id: c.nextDeploymentId++, version: `conform-${v}`, bytes, sha, chunkSize };
}

async function ask(c: RunContext, msg: Message, what: string, timeoutMs = c.g.t.answerMs): Promise<Message> {
  const { answer } = await c.g.peer.request(msg, timeoutMs);
  if (!answer) throw new CheckFailure(`${what}: no answer within ${timeoutMs} ms`);
  return answer.message;
}

async function offer(c: RunContext, t: Transfer): Promise<{ nextOffset: number; window: number }> {
  const m = await ask(c, { type: 'DEPLOY_OFFER', deploymentId: t.id, service: c.service, version: t.version, kind: c.artifact!.kind, size: t.bytes.length, sha256: t.sha, chunkSize: t.chunkSize, category: 'latency-single' }, 'DEPLOY_OFFER');
  if (m.type !== 'DEPLOY_ACCEPT') throw new CheckFailure(`DEPLOY_OFFER (${c.artifact!.description}, ${t.bytes.length} bytes) answered with ${describe(m)}`);
  expectThat(m.deploymentId === t.id, `DEPLOY_ACCEPT names deployment ${m.deploymentId}, the offer was ${t.id}`);
  expectThat(m.nextOffset >= 0 && m.nextOffset <= t.bytes.length, `DEPLOY_ACCEPT nextOffset ${m.nextOffset} is outside 0..${t.bytes.length}`);
  return { nextOffset: m.nextOffset, window: m.window };
}

async function chunk(c: RunContext, t: Transfer, offset: number): Promise<number> {
  const data = t.bytes.subarray(offset, offset + t.chunkSize);
  const m = await ask(c, { type: 'DEPLOY_CHUNK', deploymentId: t.id, offset, data }, `DEPLOY_CHUNK at ${offset}`);
  if (m.type !== 'DEPLOY_CHUNK_ACK') throw new CheckFailure(`DEPLOY_CHUNK at ${offset} answered with ${describe(m)}`);
  return m.nextOffset;
}

/** Send in order from `from` until `until` bytes are acked; returns the acked offset. */
async function sendFrom(c: RunContext, t: Transfer, from: number, until = t.bytes.length, between?: () => Promise<void>): Promise<number> {
  let off = from;
  while (off < until) {
    const next = await chunk(c, t, off);
    const want = Math.min(off + t.chunkSize, t.bytes.length);
    expectThat(next === want, `DEPLOY_CHUNK at ${off} (${want - off} bytes) acked nextOffset ${next}, want ${want}`);
    off = next;
    if (between) await between();
  }
  return off;
}

/** COMMIT, then follow DEPLOY_RESULT notifications to a final state. */
async function commit(c: RunContext, t: Transfer): Promise<DeployResultMessage | Extract<Message, { type: 'ERROR' }>> {
  const peer = c.g.peer;
  const from = peer.mark();
  const m = await ask(c, { type: 'DEPLOY_COMMIT', deploymentId: t.id }, 'DEPLOY_COMMIT', Math.max(c.g.t.answerMs, 10_000));
  if (m.type === 'ERROR') return m;
  if (m.type !== 'DEPLOY_RESULT') throw new CheckFailure(`DEPLOY_COMMIT answered with ${describe(m)}`);
  if (FINAL.has(m.state)) return m;
  const limit = 120_000;
  const fin = await peer.waitFor((h) => h.frame?.message.type === 'DEPLOY_RESULT' && !(h.frame.header.flags & FLAG_RSP) && h.frame.message.deploymentId === t.id && FINAL.has(h.frame.message.state), limit, from);
  if (!fin) throw new CheckFailure(`deployment ${t.id} did not reach a final state within ${limit} ms of DEPLOY_COMMIT (last: ${m.state})`);
  return fin.frame!.message as DeployResultMessage;
}

async function expectReady(c: RunContext, t: Transfer): Promise<void> {
  const res = await commit(c, t);
  if (res.type === 'ERROR') throw new CheckFailure(`DEPLOY_COMMIT answered with ${describe(res)}`);
  expectThat(res.state === 'ready', `deployment ${t.id} ended ${res.state}${res.code ? ` (code ${res.code})` : ''}, want ready`);
  if (res.activeVersion !== undefined) expectThat(res.activeVersion === t.version, `DEPLOY_RESULT ready says activeVersion ${res.activeVersion}, want ${t.version}`);
  c.deployed = { service: c.service, version: t.version, deploymentId: t.id };
}

/** STATE lists the service with this version and status. */
async function stateShows(c: RunContext, version: string, status: string): Promise<void> {
  const peer = c.g.peer;
  const wait = 3 * c.g.t.stateMs + c.g.t.answerMs;
  const st = await peer.waitFor((h) => {
    const m = h.frame?.message;
    return m?.type === 'STATE' && m.services.some((s) => s.name === c.service && s.version === version && s.status === status);
  }, wait, peer.mark());
  if (!st) throw new CheckFailure(`no STATE within ${wait} ms lists ${c.service} ${version} ${status}`);
}

export async function deployChecks(c: RunContext, afterReady: () => Promise<void>): Promise<void> {
  const { g, r } = c;
  const all = Object.values(DEPLOY_CHECKS);
  if (!c.artifact) {
    for (const d of all) r.skip(d, c.noArtifact ?? 'no artifact');
    r.skip(PING_CHECKS.duringDeploy, c.noArtifact ?? 'no artifact');
    return;
  }
  let pinged = false;
  let pingFailure: string | undefined;
  const ok = await r.run(DEPLOY_CHECKS.transfer, async () => {
    const t = newTransfer(c, 1);
    const a = await offer(c, t);
    expectThat(a.nextOffset === 0, `a fresh OFFER was accepted at nextOffset ${a.nextOffset}, want 0`);
    expectThat(a.window >= WINDOW_MIN && a.window <= WINDOW_MAX, `DEPLOY_ACCEPT window ${a.window} is outside ${WINDOW_MIN}..${WINDOW_MAX}`);
    await sendFrom(c, t, 0, t.bytes.length, async () => {
      if (pinged) return;
      pinged = true;
      await echo(c, g.peer, new Uint8Array([0, 0xde, 0]), 'PING between chunks').catch((e: Error) => void (pingFailure = e.message));
    });
    await expectReady(c, t);
    await stateShows(c, t.version, 'ready');
    return `${c.artifact!.description}: ${t.bytes.length} bytes in ${Math.ceil(t.bytes.length / t.chunkSize)} chunks of ${t.chunkSize}, ready, in STATE`;
  });
  await r.run(PING_CHECKS.duringDeploy, async () => {
    if (!pinged) throw new CheckFailure('the transfer never got to its second chunk');
    if (pingFailure) throw new CheckFailure(pingFailure);
    return 'PONG between DEPLOY_CHUNKs';
  });
  if (ok) await afterReady();
  else c.noArtifact = 'deploy.transfer failed';

  // bad hash, with the go-back-N probes on the way
  let goBackN: string | undefined;
  await r.run(DEPLOY_CHECKS.badHash, async (warn) => {
    if (!c.deployed) throw new CheckFailure('needs a version in service first (deploy.transfer failed)');
    const t = newTransfer(c, 2, true);
    const a = await offer(c, t);
    expectThat(a.nextOffset === 0, `a fresh OFFER was accepted at nextOffset ${a.nextOffset}`);
    const first = await chunk(c, t, 0);
    try {
      const ahead = await chunk(c, t, 2 * t.chunkSize);
      expectThat(ahead === first, `a chunk at ${2 * t.chunkSize} (ahead of nextOffset ${first}) was acked ${ahead}; go-back-N drops it and repeats ${first}`);
      const dup = await chunk(c, t, 0);
      expectThat(dup === first, `a duplicate chunk at 0 was acked ${dup}; want ${first} again`);
      goBackN = `out-of-order and duplicate chunks acked ${first}`;
    } catch (e) {
      goBackN = `FAIL:${(e as Error).message}`;
      throw e;
    }
    await sendFrom(c, t, first);
    const res = await commit(c, t);
    if (res.type === 'ERROR') {
      expectThat(res.code === 400, `COMMIT of a bad hash answered ${describe(res)}, want DEPLOY_RESULT failed 400`);
      warn('COMMIT answered with ERROR 400 instead of DEPLOY_RESULT failed (code 400)');
    } else {
      expectThat(res.state === 'failed' && res.code === 400, `a bad hash ended ${res.state}${res.code !== undefined ? ` code ${res.code}` : ''}, want failed with 400 deploy.hash_mismatch`);
      if (res.activeVersion !== undefined) expectThat(res.activeVersion === c.deployed.version, `after the failed deployment activeVersion is ${res.activeVersion}, want ${c.deployed.version}`);
    }
    await stateShows(c, c.deployed.version, 'ready');
    await afterReady();
    return `failed 400; ${c.deployed.version} still serving`;
  });
  if (goBackN === undefined) r.skip(DEPLOY_CHECKS.goBackN, 'not reached (deploy.bad-hash-rollback failed before its chunks)');
  else await r.run(DEPLOY_CHECKS.goBackN, async () => {
    if (goBackN!.startsWith('FAIL:')) throw new CheckFailure(goBackN!.slice(5));
    return goBackN!;
  });

  await r.run(DEPLOY_CHECKS.resumeDrop, async () => {
    const t = newTransfer(c, 3);
    const a = await offer(c, t);
    expectThat(a.nextOffset === 0, `a fresh OFFER was accepted at nextOffset ${a.nextOffset}`);
    const half = Math.ceil(Math.ceil(t.bytes.length / t.chunkSize) / 2) * t.chunkSize;
    const acked = await sendFrom(c, t, 0, Math.min(half, t.bytes.length - 1));
    const drop = await g.dropLink();
    if (drop.how === 'silence') {
      c.lease = drop;
      const ok2 = await leaseBySilence(c, drop);
      if (!ok2) throw new CheckFailure('the device did not come back after the link was lost (see heartbeat.lease)');
    } else await g.establish();
    const again = await offer(c, t);
    expectThat(again.nextOffset === acked, `after the link dropped, the same OFFER was accepted at ${again.nextOffset}; ${acked} bytes had been acked (§5.11: the device persists them and answers its nextOffset)`);
    await sendFrom(c, t, again.nextOffset);
    await expectReady(c, t);
    await afterReady();
    return `link ${drop.how === 'cut' ? 'cut' : 'lost (kit silent)'} at ${acked}/${t.bytes.length}; resumed at ${again.nextOffset}, ready`;
  });

  if (!c.restart) r.skip(DEPLOY_CHECKS.resumeRestart, 'the kit cannot restart the device by itself: give --restart-cmd to run this check');
  else
    await r.run(DEPLOY_CHECKS.resumeRestart, async () => {
      const t = newTransfer(c, 4);
      await offer(c, t);
      const half = Math.ceil(Math.ceil(t.bytes.length / t.chunkSize) / 2) * t.chunkSize;
      const acked = await sendFrom(c, t, 0, Math.min(half, t.bytes.length - 1));
      await c.restart!();
      await g.establish();
      const again = await offer(c, t);
      expectThat(again.nextOffset === acked, `after a restart, the same OFFER was accepted at ${again.nextOffset}; ${acked} bytes had been acked`);
      await sendFrom(c, t, again.nextOffset);
      await expectReady(c, t);
      await afterReady();
      return `restarted at ${acked}/${t.bytes.length}; resumed at ${again.nextOffset}, ready`;
    });
}
