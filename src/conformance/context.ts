/** What every check family gets: the gateway, the recorder, the options and what earlier checks left behind. */
import type { Gateway } from './gateway.js';
import type { Recorder } from './check.js';
import type { TestArtifact } from './artifacts.js';
import type { LinkDrop } from './gateway.js';

export interface Deployed {
  service: string;
  version: string;
  deploymentId: number;
}

export interface RunContext {
  g: Gateway;
  r: Recorder;
  /** Restart the device (power cycle, process restart); resume-after-restart runs only with it. */
  restart?: () => Promise<void>;
  artifact?: TestArtifact;
  /** Why there is no artifact (the skip reason of every check that needs one). */
  noArtifact?: string;
  /** The service the deploy checks left running (infer, STATE and RTX checks use it). */
  deployed?: Deployed;
  nextDeploymentId: number;
  /** planVersion of the next PLACEMENT the kit sends (rising, so none is stale). */
  nextPlanVersion: number;
  /** The drop by silence a check already did (heartbeat.lease is recorded from it). */
  lease?: LinkDrop;
  service: string;
}
