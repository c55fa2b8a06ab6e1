import { describe, expect, it } from 'vitest';
import { DEPLOYMENT_TRANSITIONS, nextDeploymentState, resultEvent, type DeploymentEvent } from '../../src/device-mgmt/deployment/state-machine.js';
import type { DeploymentState } from '../../src/device-mgmt/registry/store.js';

const EVENTS: DeploymentEvent[] = ['accept', 'reoffer', 'resend', 'complete', 'verifying', 'loading', 'ready', 'fail', 'rolled_back', 'undeploy', 'unloaded', 'cancel'];

describe('deployment state machine', () => {
  const expected: Array<[DeploymentState, DeploymentEvent, DeploymentState]> = [
    ['offered', 'accept', 'transferring'],
    ['offered', 'reoffer', 'offered'],
    ['offered', 'fail', 'failed'],
    ['offered', 'complete', 'verifying'],
    ['transferring', 'accept', 'transferring'],
    ['transferring', 'reoffer', 'transferring'],
    ['transferring', 'complete', 'verifying'],
    ['transferring', 'fail', 'failed'],
    ['verifying', 'reoffer', 'verifying'],
    // A re-offer after a crash found the device short of bytes: back to the transfer.
    ['verifying', 'resend', 'transferring'],
    ['loading', 'resend', 'transferring'],
    ['verifying', 'verifying', 'verifying'],
    ['verifying', 'loading', 'loading'],
    ['verifying', 'ready', 'ready'],
    ['verifying', 'fail', 'failed'],
    ['verifying', 'rolled_back', 'rolled-back'],
    ['loading', 'reoffer', 'loading'],
    ['loading', 'loading', 'loading'],
    ['loading', 'ready', 'ready'],
    ['loading', 'fail', 'failed'],
    ['loading', 'rolled_back', 'rolled-back'],
    // The unload intent is committed before PLACEMENT goes out; the device's answer settles it.
    ['ready', 'undeploy', 'undeploying'],
    ['undeploying', 'undeploy', 'undeploying'],
    ['undeploying', 'unloaded', 'undeployed'],
    ['ready', 'ready', 'ready'],
    // Undeploy of an offer still waiting for its device (issue 21, defect 3): nothing was loaded.
    ['offered', 'cancel', 'undeployed'],
    ['transferring', 'cancel', 'undeployed'],
    // Committed but perhaps loaded while the server was not looking: unload to be sure.
    ['verifying', 'undeploy', 'undeploying'],
    ['loading', 'undeploy', 'undeploying'],
  ];
  it.each(expected)('%s --%s--> %s', (from, ev, to) => expect(nextDeploymentState(from, ev)).toBe(to));
  it('rejects every other pair with deploy.state', () => {
    let allowed = 0;
    for (const from of Object.keys(DEPLOYMENT_TRANSITIONS) as DeploymentState[]) {
      for (const ev of EVENTS) {
        if (expected.some(([f, e]) => f === from && e === ev)) allowed++;
        else expect(() => nextDeploymentState(from, ev)).toThrowError(expect.objectContaining({ code: 'deploy.state' }));
      }
    }
    expect(allowed).toBe(expected.length);
  });
  it('maps DEPLOY_RESULT states to events', () => {
    expect(resultEvent('failed')).toBe('fail');
    expect(resultEvent('rolled-back')).toBe('rolled_back');
    expect(resultEvent('ready')).toBe('ready');
  });
});
