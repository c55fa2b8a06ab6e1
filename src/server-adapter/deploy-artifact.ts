import { createReadStream } from 'node:fs';
import { emptyArtifactError, SHA256_HEX, type ArtifactStore } from '../device-mgmt/deployment/artifact-store.js';
import { ConfigError, DeployError, EparaError } from '../errors.js';

/**
 * What `server.deploy({ artifact })` accepts. A path or bytes come from a local caller, who runs
 * as the server anyway; `{ sha256 }` names an artifact already in the store (uploaded with
 * `PUT /artifacts`), and is the only form the HTTP API passes on — it never names a file.
 */
interface Stored {
  sha256: string;
  size: number;
}

export type ArtifactSource = Uint8Array | string | { sha256: string };

/** Parses `sha256:<hex>` (the HTTP form) or bare hex into the store's name, else undefined. */
export function parseDigest(s: string): string | undefined {
  const hex = s.startsWith('sha256:') ? s.slice(7) : s;
  return SHA256_HEX.test(hex) ? hex : undefined;
}

/**
 * Puts the artifact into the store and returns its digest and size. Bytes and digests answer at
 * once, so deploy() records its deployments before it first yields (a close() right after the
 * call still finds and answers them); only a path, streamed from disk, answers a promise.
 */
export function storeArtifact(store: ArtifactStore, a: ArtifactSource): Stored | Promise<Stored> {
  if (a instanceof Uint8Array) {
    if (a.length === 0) throw emptyArtifactError();
    return { sha256: store.put(a), size: a.length };
  }
  if (typeof a === 'string') {
    return store.putStream(fileChunks(a), { maxBytes: Number.MAX_SAFE_INTEGER }).catch((err: unknown) => {
      if (err instanceof EparaError) throw err;
      throw new DeployError({ code: 'deploy.artifact_missing', reason: `cannot read artifact ${a}: ${(err as Error).message.split('\n', 1)[0]}`, hint: 'check the path given to `epara deploy <file>`', field: 'artifact', cause: err });
    });
  }
  if (a && typeof a === 'object' && typeof (a as { sha256?: unknown }).sha256 === 'string') {
    const sha = parseDigest((a as { sha256: string }).sha256);
    const size = sha === undefined ? undefined : store.sizeOf(sha);
    if (sha === undefined || size === undefined) {
      throw new DeployError({ code: 'deploy.artifact_unknown', reason: `no uploaded artifact has digest ${String((a as { sha256: string }).sha256).slice(0, 80)}`, hint: 'upload it first (PUT /artifacts), as `epara deploy <file>` does', field: 'artifact' });
    }
    return { sha256: sha, size };
  }
  throw new ConfigError({ code: 'config.deploy', reason: 'deploy artifact must be bytes, a file path or { sha256 }', hint: 'pass a Uint8Array, a path, or the digest PUT /artifacts answered', field: 'artifact' });
}

/**
 * The file's bytes, opened only when the store starts reading. A read stream made up front opened
 * the file (and, for a missing one, emitted 'error' with no listener: an uncaught exception that
 * would take the server down) while the store was still creating its temporary file.
 */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path)) yield chunk as Buffer;
}
