import { describe, expect, it } from 'vitest';
import { crashScenario, expectConverged, type CrashState } from './helpers/crash-scenario.js';

/**
 * Issue 15, defect 4: SIGKILL the server process at each state of the deployment machine and
 * start it again. The record must converge to what the device really has, and the device must
 * never mark its working service failed. Before the fix a kill while `verifying` (the device
 * went on to activate the version while the server was down) ended `failed deploy.unknown`,
 * the device marked the service failed and infer answered no_device.
 */
const STATES: CrashState[] = ['offered', 'transferring', 'verifying', 'loading', 'ready', 'undeploying'];

describe('server SIGKILL at every deployment state', () => {
  it.each(STATES)('killed while %s: the restarted server and the device converge', { timeout: 60_000 }, async (at) => {
    const o = await crashScenario('server', at);
    // What the kill left on disk is a real, unsettled (or just settled) state, never a failure.
    expect(o.stateOnDiskAfterKill).not.toBe('failed');
    if (at === 'verifying') expect(['verifying', 'loading']).toContain(o.stateOnDiskAfterKill);
    if (at === 'offered') expect(o.stateOnDiskAfterKill).toBe('offered');
    expectConverged(o, at);
  });
});
