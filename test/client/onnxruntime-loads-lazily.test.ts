import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// A board that only runs custom handlers must not pay for onnxruntime: importing the SDK and
// connecting must not map libonnxruntime into the process; the first ONNX load does.
const script = `
import { readFileSync } from 'node:fs';
const mapped = () => readFileSync('/proc/self/maps', 'utf8').includes('libonnxruntime');
const sdk = await import('./src/client/index.ts');
const before = mapped();
await sdk.OnnxModel.load('fixtures/models/mlp-classifier.onnx');
console.log(JSON.stringify({ before, after: mapped() }));
`;

describe.skipIf(!existsSync('/proc/self/maps'))('onnxruntime-node is loaded lazily', () => {
  it('is not in the process after importing the SDK, and is after the first model load', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ before: false, after: true });
  });
});
