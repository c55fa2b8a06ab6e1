import { describe, expect, it } from 'vitest';
import { crashScenario, expectConverged, type CrashState } from './helpers/crash-scenario.js';

/**
 * Issue 15, defect 4, the other side: SIGKILL the device process at each state of the deployment
 * machine and start it again on the same data directory. The server's record must converge to
 * what the restarted device really has, and the device must never mark its service failed.
 */
const STATES: CrashState[] = ['offered', 'transferring', 'verifying', 'loading', 'ready', 'undeploying'];

describe('device SIGKILL at every deployment state', () => {
  it.each(STATES)('killed while %s: the restarted device and the server converge', { timeout: 60_000 }, async (at) => {
    const o = await crashScenario('device', at);
    expectConverged(o, at);
  });
});
