import type { DeploymentRecord } from '../device-mgmt/registry/store.js';

/**
 * What `undeploy(service)` does with each of the service's records (pure). Undeploy used to
 * touch only `ready` records, so an offer queued for an offline device was still delivered when
 * the device connected, after the operator had removed the service.
 *
 * - `cancel`: offers not being sent right now (device offline, or waiting behind another transfer
 *   on the same device): `offered`/`transferring` → `undeployed`, nothing goes to the device.
 * - `unload`: `ready` ones, and `verifying`/`loading` ones of devices that are not connected (the
 *   device may have loaded it meanwhile): committed as `undeploying`, PLACEMENT unload sent now or
 *   when the device is back. `undeploying` ones are sent again.
 * - `busy`: the record the device is receiving or loading at this moment; it is left to settle
 *   (`deploy.busy`), and a second undeploy then removes it.
 */
export interface UndeployPlan {
  cancel: DeploymentRecord[];
  unload: DeploymentRecord[];
  busy: DeploymentRecord[];
}

export function planUndeploy(records: readonly DeploymentRecord[], running: (deviceId: string) => number | undefined, online: (deviceId: string) => boolean): UndeployPlan {
  const plan: UndeployPlan = { cancel: [], unload: [], busy: [] };
  for (const d of records) {
    if (d.state === 'ready' || d.state === 'undeploying') plan.unload.push(d);
    else if (running(d.deviceId) === d.id && online(d.deviceId)) plan.busy.push(d);
    else if (d.state === 'offered' || d.state === 'transferring') plan.cancel.push(d);
    else if (d.state === 'verifying' || d.state === 'loading') plan.unload.push(d);
  }
  return plan;
}
