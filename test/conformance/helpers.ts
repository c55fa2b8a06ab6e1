import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ConformReport } from '../../src/conformance/index.js';

export function tmpDir(cleanups: Array<() => unknown>, prefix = 'epara-conform-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export function newKey(): string {
  return randomBytes(32).toString('hex');
}

/** One line per check that did not pass, for a failure message that says what went wrong. */
export function notPassed(rep: ConformReport): string[] {
  return rep.results.filter((r) => r.status !== 'pass').map((r) => `${r.status} ${r.id}: ${r.detail}`);
}

export function failed(rep: ConformReport): string[] {
  return rep.results.filter((r) => r.status === 'fail').map((r) => `${r.id}: ${r.detail}`);
}

/** Fast timings for loopback devices. */
export const FAST = { answerMs: 2000, helloMs: 15_000, graceMs: 50, heartbeatMs: 500, stateMs: 500, leaseMs: 30_000 };

/**
 * Device settings for emulators under test: reconnect quickly, and give up an unanswered request
 * after one retry so that the lease check (the kit goes silent) takes seconds, not half a minute.
 */
export const EMULATOR_DEVICE = { reconnect: { initialMs: 50, maxMs: 500 }, link: { requestTimeoutMs: 500, retries: 1 } };
