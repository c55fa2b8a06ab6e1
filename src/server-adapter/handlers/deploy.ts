import type { ArtifactStore } from '../../device-mgmt/deployment/artifact-store.js';
import { Deployer } from '../../device-mgmt/deployment/deployer.js';
import type { RegistryStore } from '../../device-mgmt/registry/store.js';
import { errorForCode, toErrorMessage, type Message } from '../../protocol/index.js';
import { DeploymentCoordinator, type DeploymentsHost, type ReadyLink } from '../deployments.js';
import type { AuditFn, LiveSessions } from '../live-sessions.js';
import type { ServerMetrics } from '../metrics.js';
import { answer, type MessageContext, type ServerHandlers } from './context.js';

/**
 * Deployment messages a device sends on its own (SPEC §5.11), checked against the session that
 * carries them: a device may only speak of its own deployments. A message naming another device's
 * deployment is refused with `deploy.wrong_device` (410), never applied, and audited under the
 * SENDING device's id, so the log shows who tried. The transfers themselves (OFFER, CHUNK,
 * COMMIT and their answers) are the Deployer's, run by the DeploymentCoordinator.
 */
export type DeployMessage = Extract<Message, { deploymentId: number }>;

export interface DeployHost {
  deployer(): Deployer;
  store(): RegistryStore;
  audit: AuditFn;
}

function refuse(h: DeployHost, deviceId: string, remote: string, m: DeployMessage, owner: string | undefined): Message {
  const reason = `${m.type} for deployment ${m.deploymentId}, which belongs to another device`;
  // The operator's log names both devices; the answer to the sender does not name the owner.
  h.audit({ event: 'deploy.wrong_device', deviceId, remote, detail: `${reason}${owner ? ` (${owner})` : ''}; refused, not applied` }, 'immediate');
  return toErrorMessage(errorForCode('deploy.wrong_device', { reason, details: { deploymentId: m.deploymentId } }));
}

/** The ERROR for a deployment message naming another device's deployment, else undefined. */
function notOwned(h: DeployHost, m: DeployMessage, ctx: MessageContext): Message | undefined {
  const owner = h.store().getDeployment(m.deploymentId)?.deviceId;
  return owner !== undefined && owner !== ctx.deviceId ? refuse(h, ctx.deviceId, ctx.conn.remote, m, owner) : undefined;
}

/**
 * ACCEPT and CHUNK_ACK travel as responses to the server's requests; OFFER, CHUNK and COMMIT go
 * the other way. Sent by a device on its own, none of them means anything here.
 */
function wrongWay(h: DeployHost) {
  return (m: DeployMessage, ctx: MessageContext): void =>
    answer(ctx, notOwned(h, m, ctx) ?? toErrorMessage(errorForCode('msg.unexpected', { reason: `the server does not take ${m.type} from a device as a request` })));
}

export function deployHandlers(h: DeployHost): Pick<ServerHandlers, 'DEPLOY_RESULT' | 'DEPLOY_OFFER' | 'DEPLOY_ACCEPT' | 'DEPLOY_CHUNK' | 'DEPLOY_CHUNK_ACK' | 'DEPLOY_COMMIT'> {
  const other = wrongWay(h);
  return {
    DEPLOY_RESULT: (m, ctx) => {
      const refusal = notOwned(h, m, ctx);
      if (refusal) return answer(ctx, refusal);
      if (h.deployer().onResult(ctx.deviceId, m) === 'wrong_device') answer(ctx, refuse(h, ctx.deviceId, ctx.conn.remote, m, undefined));
    },
    DEPLOY_OFFER: other,
    DEPLOY_ACCEPT: other,
    DEPLOY_CHUNK: other,
    DEPLOY_CHUNK_ACK: other,
    DEPLOY_COMMIT: other,
  };
}

export interface DeploymentWiringHost extends Omit<DeploymentsHost, 'deployer' | 'artifacts' | 'store' | 'readyConn'> {
  live: LiveSessions;
  store: RegistryStore;
  artifacts: ArtifactStore;
  metrics: ServerMetrics;
}

/** The Deployer (wire work of one transfer) and the coordinator (which transfers run, and when). */
export function startDeployments(
  h: DeploymentWiringHost,
  o: { chunkSize: number; resultTimeoutMs: number; deployRequestTimeoutMs: number; deployRetryMs: number },
): { deployer: Deployer; coordinator: DeploymentCoordinator } {
  let coordinator: DeploymentCoordinator | undefined;
  const deployer = new Deployer(
    h.store,
    h.artifacts,
    {
      progress: (p) => coordinator?.progress(p),
      bytesSent: (_id, n) => h.metrics.deploymentBytes.inc(n),
    },
    { chunkSize: o.chunkSize, resultTimeoutMs: o.resultTimeoutMs, requestTimeoutMs: o.deployRequestTimeoutMs },
  );
  const { metrics: _m, live, ...rest } = h;
  const readyConn = (id: string): ReadyLink | undefined => {
    // Right after WELCOME (SPEC §7.1 restricts only what comes before it): the device SDK holds
    // requests that arrive behind WELCOME until its handshake is done. Waiting for the device
    // to speak first left a co-simulated FPGA, which only answers, with its deploy unsent.
    const c = live.get(id)?.conn;
    const ready = c?.ready;
    return c && ready ? { link: c.link, limits: ready.limits } : undefined;
  };
  coordinator = new DeploymentCoordinator(
    { ...rest, readyConn, store: () => h.store, artifacts: () => h.artifacts, deployer: () => deployer },
    { chunkSize: o.chunkSize, retryMs: o.deployRetryMs },
  );
  coordinator.load(h.store.listDeployments());
  return { deployer, coordinator };
}
