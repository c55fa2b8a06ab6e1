import { describe, expect, it } from 'vitest';
import { crashScenario, type CrashState } from './helpers/crash-scenario.js';

/**
 * Issue 15, defect 4, the other side: SIGKILL the device process at each state of the deployment
 * machine and start it again on the same data directory. The server's record must converge to
 * what the restarted device really has, and the device must never mark its service failed.
 */
const STATES: CrashState[] = ['offered', 'transferring', 'verifying', 'loading', 'ready', 'undeploying'];

describe('device SIGKILL at every deployment state', () => {
  it.each(STATES)('killed while %s: the restarted device and the server converge', { timeout: 60_000 }, async (at) => {
    const o = await crashScenario('device', at);
    if (at === 'undeploying') {
      expect(o.record).toMatchObject({ state: 'undeployed' });
      // The unload was persisted before the device answered, or it is sent again on reconnect.
      expect(o.deviceService?.status ?? 'unloaded').toBe('unloaded');
      expect(o.infer).toMatchObject({ ok: false, code: 'infer.no_device' });
    } else {
      expect(o.record).toMatchObject({ state: 'ready', activeVersion: '1' });
      expect(o.record.errorCode ?? undefined).toBeUndefined();
      expect(o.deviceService).toEqual({ status: 'ready', version: '1' });
      expect(o.infer).toMatchObject({ ok: true, deviceId: 'pi' });
    }
    expect(o.deviceDeployed.filter((l) => l.state !== 'ready')).toEqual([]);
    expect(o.deviceStatuses).not.toContain('failed');
  });
});
