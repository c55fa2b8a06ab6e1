import { describe, expect, it } from 'vitest';
import { EparaError } from '../../src/errors.js';
import { statusOf } from '../../src/server-adapter/http-errors.js';

// A split model's errors over HTTP: never a 500 (that is kept for bugs in epara).
describe('pipeline and partition errors over HTTP', () => {
  const status = (code: string) => statusOf(new EparaError({ code, reason: 'r', hint: 'h' }));
  it('a lost or mismatched stage is 503 (retry after the next placement round)', () => {
    expect(status('infer.stage_lost')).toBe(503);
    expect(status('infer.stage_mismatch')).toBe(503);
  });
  it('a model that cannot be cut is 422, a group that cannot be formed 409', () => {
    for (const c of ['partition.bad_model', 'partition.cannot_cut', 'partition.bad_request']) expect(status(c)).toBe(422);
    for (const c of ['deploy.pipeline_group', 'deploy.pipeline_refused']) expect(status(c)).toBe(409);
  });
});
