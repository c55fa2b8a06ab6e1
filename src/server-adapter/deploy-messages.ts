import type { Deployer } from '../device-mgmt/deployment/deployer.js';
import type { AuditEntry, RegistryStore } from '../device-mgmt/registry/store.js';
import { errorForCode, toErrorMessage, type Message } from '../protocol/index.js';

/**
 * Deployment messages a device sends on its own (SPEC §5.11), checked against the session that
 * carries them: a device may only speak of its own deployments. A message naming another device's
 * deployment is refused with `deploy.wrong_device` (410), never applied, and audited under the
 * SENDING device's id, so the log shows who tried.
 */
export interface DeployMessageHost {
  deployer(): Deployer;
  store(): RegistryStore;
  audit(e: Omit<AuditEntry, 'at'>, durability: 'immediate'): void;
}

const DEPLOY_TYPES: ReadonlySet<string> = new Set(['DEPLOY_OFFER', 'DEPLOY_ACCEPT', 'DEPLOY_CHUNK', 'DEPLOY_CHUNK_ACK', 'DEPLOY_COMMIT', 'DEPLOY_RESULT']);

export function isDeploymentMessage(m: Message): m is Extract<Message, { deploymentId: number }> {
  return DEPLOY_TYPES.has(m.type);
}

/**
 * Handles one deployment message from `deviceId`'s session. Returns the ERROR to send back
 * (answer to a request, or a notification for DEPLOY_RESULT), or undefined when it was accepted.
 */
export function onDeploymentMessage(h: DeployMessageHost, deviceId: string, remote: string, m: Extract<Message, { deploymentId: number }>): Message | undefined {
  const owner = h.store().getDeployment(m.deploymentId)?.deviceId;
  if (owner !== undefined && owner !== deviceId) return refuse(h, deviceId, remote, m, owner);
  if (m.type === 'DEPLOY_RESULT') {
    if (h.deployer().onResult(deviceId, m) === 'wrong_device') return refuse(h, deviceId, remote, m, owner);
    return undefined;
  }
  // ACCEPT and CHUNK_ACK travel as responses to the server's requests; OFFER, CHUNK and COMMIT go
  // the other way. Sent by a device as requests of its own, none of them means anything here.
  const e = errorForCode('msg.unexpected', { reason: `the server does not take ${m.type} from a device as a request` });
  return toErrorMessage(e);
}

function refuse(h: DeployMessageHost, deviceId: string, remote: string, m: Extract<Message, { deploymentId: number }>, owner: string | undefined): Message {
  const reason = `${m.type} for deployment ${m.deploymentId}, which belongs to another device`;
  // The operator's log names both devices; the answer to the sender does not name the owner.
  h.audit({ event: 'deploy.wrong_device', deviceId, remote, detail: `${reason}${owner ? ` (${owner})` : ''}; refused, not applied` }, 'immediate');
  return toErrorMessage(errorForCode('deploy.wrong_device', { reason, details: { deploymentId: m.deploymentId } }));
}
