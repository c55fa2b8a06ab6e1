import { EparaError } from '../../errors.js';
import { tableMachine, type TransitionTable } from '../../state-machine.js';
import type { DeploymentState } from '../registry/store.js';

/**
 * Deployment state machine (SPEC §7.5), per (device, artifact):
 *
 *   offered ──accept──▶ transferring ──complete──▶ verifying ──loading──▶ loading ──ready──▶ ready
 *      │                    │   ▲ (link drop / restart: re-offer resumes from the device's offset)
 *      │                    │   └──────resend (re-offer found bytes missing)──┘      │
 *      └──────fail──────────┴───────────fail / rolled_back──────────▶ failed | rolled-back
 *
 *   ready ──undeploy──▶ undeploying ──unloaded──▶ undeployed
 *   offered | transferring ──cancel──▶ undeployed   (undeploy of an offer not being sent: nothing loaded)
 *   verifying | loading ──undeploy──▶ undeploying   (the device may have it loaded: unload to be sure)
 *
 * The record is persisted in every state, so a server restart knows which transfers to resume
 * (offered / transferring / verifying / loading), which unloads to send again (undeploying) and
 * which are settled. Reconciliation after a crash of either side is a re-offer: the device answers
 * DEPLOY_ACCEPT with what it holds and DEPLOY_COMMIT with what it runs (docs/server.md).
 */
export type DeploymentEvent =
  | 'accept' // DEPLOY_ACCEPT received
  | 'reoffer' // link came back: OFFER again, the device answers with its offset
  | 'resend' // a re-offer after COMMIT found the device short of bytes (it lost them): transfer again
  | 'complete' // every byte acknowledged, DEPLOY_COMMIT sent
  | 'verifying'
  | 'loading'
  | 'ready'
  | 'fail'
  | 'rolled_back'
  | 'undeploy' // the operator asked for an unload; committed before PLACEMENT unload goes out
  | 'unloaded' // the device confirmed the unload (or no longer has the service)
  | 'cancel'; // undeploy of an offer waiting for its device (offline, or behind another transfer)

export const DEPLOYMENT_TRANSITIONS: TransitionTable<DeploymentState, DeploymentEvent> = {
  offered: { accept: 'transferring', reoffer: 'offered', fail: 'failed', complete: 'verifying', cancel: 'undeployed' },
  transferring: { accept: 'transferring', reoffer: 'transferring', complete: 'verifying', fail: 'failed', cancel: 'undeployed' },
  verifying: { reoffer: 'verifying', resend: 'transferring', verifying: 'verifying', loading: 'loading', ready: 'ready', fail: 'failed', rolled_back: 'rolled-back', undeploy: 'undeploying' },
  loading: { reoffer: 'loading', resend: 'transferring', loading: 'loading', ready: 'ready', fail: 'failed', rolled_back: 'rolled-back', undeploy: 'undeploying' },
  ready: { undeploy: 'undeploying', ready: 'ready' },
  undeploying: { undeploy: 'undeploying', unloaded: 'undeployed' },
  failed: {},
  'rolled-back': {},
  undeployed: {},
};

export const SETTLED_DEPLOYMENT_STATES: ReadonlySet<DeploymentState> = new Set(['ready', 'failed', 'rolled-back', 'undeployed']);

/** States a server restart (or a device reconnect) must pick up again: transfers to resume. */
export const UNSETTLED_DEPLOYMENT_STATES: readonly DeploymentState[] = ['offered', 'transferring', 'verifying', 'loading'];

/** Unloads the server committed to but the device has not confirmed: sent again on reconnect. */
export const PENDING_UNDEPLOY_STATES: readonly DeploymentState[] = ['undeploying'];

export class DeploymentTransitionError extends EparaError {}

/** The record lives in the registry, not in memory: the server steps it from its persisted state. */
export const DEPLOYMENT_MACHINE = tableMachine(DEPLOYMENT_TRANSITIONS, 'deployment', (o) =>
  new DeploymentTransitionError({ ...o, code: 'deploy.state', hint: 'the device answered out of order; the deployment will be retried or can be re-issued' }),
);

export function nextDeploymentState(from: DeploymentState, event: DeploymentEvent): DeploymentState {
  return DEPLOYMENT_MACHINE.step(from, event);
}

/** Maps a DEPLOY_RESULT state (wire enum as a string) to the event it raises. */
export function resultEvent(state: 'verifying' | 'loading' | 'ready' | 'failed' | 'rolled-back'): DeploymentEvent {
  switch (state) {
    case 'verifying':
      return 'verifying';
    case 'loading':
      return 'loading';
    case 'ready':
      return 'ready';
    case 'failed':
      return 'fail';
    case 'rolled-back':
      return 'rolled_back';
  }
}
