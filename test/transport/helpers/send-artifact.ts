import { sendOverLink } from '../../../src/device-mgmt/deployment/link-sender.js';
import type { ChunkSenderResult } from '../../../src/device-mgmt/deployment/sender.js';
import type { FrameLink } from '../../../src/transport/frame-link.js';

/**
 * The production deploy sender (sendOverLink, what the server's Deployer runs after
 * DEPLOY_ACCEPT) over a bare FrameLink, for the link-layer tests that pair it with a ChunkSink.
 */
export function sendArtifact(
  link: FrameLink,
  d: { deploymentId: number; data: Uint8Array; window: number; chunkSize?: number; startOffset?: number; onProgress?: (acked: number) => void },
): Promise<ChunkSenderResult> {
  return sendOverLink(link, {
    deploymentId: d.deploymentId,
    size: d.data.length,
    maxFrame: link.maxFrame,
    window: Math.min(d.window, link.window),
    ...(d.chunkSize === undefined ? {} : { chunkSize: d.chunkSize }),
    ...(d.startOffset === undefined ? {} : { startOffset: d.startOffset }),
    read: (o, l) => d.data.subarray(o, o + l),
    ...(d.onProgress ? { onProgress: (a: number) => d.onProgress!(a) } : {}),
  });
}
