import { EparaError } from '../errors.js';
import { parseDigest } from './deploy-artifact.js';
import type { DeployOptions } from './deployments.js';

/**
 * Turns a `POST /deployments` body into the local deploy() options. The HTTP API never reads a
 * file by a client-given name (issue 15, defect 1: `artifactPath: "<dataDir>/master.key"` used to
 * send the master key to a device): the artifact is named only by the digest that
 * `PUT /artifacts` answered. Any path-like field is refused before anything touches the disk, with
 * the same answer whether or not such a file exists, so the refusal tells nothing about the
 * server's files.
 */
const PATH_FIELD = /path|file|dir/i;

export function pathNotAccepted(field: string): EparaError {
  return new EparaError({
    code: 'http.path_not_accepted',
    reason: `field ${JSON.stringify(field.slice(0, 64))}: the HTTP API does not accept file paths`,
    hint: 'upload the bytes with PUT /artifacts and deploy by the digest it answers, as `epara deploy <file>` does',
    field: field.slice(0, 64),
  });
}

export function deployOptionsFromHttp(body: Record<string, unknown>): DeployOptions {
  for (const k of Object.keys(body)) if (PATH_FIELD.test(k)) throw pathNotAccepted(k);
  if ('artifactBase64' in body) {
    throw new EparaError({
      code: 'http.inline_artifact_not_accepted',
      reason: 'artifacts are not accepted inside the JSON body',
      hint: 'upload the bytes with PUT /artifacts (application/octet-stream) and deploy by digest, as `epara deploy <file>` does',
      field: 'artifactBase64',
    });
  }
  const ref = body.artifact ?? (typeof body.sha256 === 'string' ? `sha256:${body.sha256}` : undefined);
  if (typeof ref !== 'string' || parseDigest(ref) === undefined) {
    // A string that is not a digest may be a path: refuse it as one, without looking it up.
    if (typeof ref === 'string') throw pathNotAccepted('artifact');
    throw new EparaError({ code: 'http.artifact_required', reason: 'POST /deployments needs artifact: "sha256:<64 hex digits>"', hint: 'upload the bytes with PUT /artifacts first, as `epara deploy <file>` does', field: 'artifact' });
  }
  const { artifact: _a, sha256: _s, ...rest } = body;
  return { ...rest, artifact: { sha256: parseDigest(ref)! } } as unknown as DeployOptions;
}
