/**
 * The runtime of the emulated Basys 3 endpoint: `int8-fc-weights` artifacts are loaded into the
 * HDL engineer's bit-exact behavioural model (src/conformance/int8-fc-model.ts), and requests
 * are served by it through a custom handler — the same path a real FPGA proxy would take.
 *
 * Wire contract of the service: one int8 tensor with `inputs` elements (shape [inputs] or
 * [1, inputs]) in; `scores` int32 [outputs] (post-ReLU) and `class` uint8 [1] out.
 */
import { readFile } from 'node:fs/promises';
import type { ArtifactLoader } from '../src/client/device.js';
import { inferError } from '../src/client/client-errors.js';
import { handlerRunner } from '../src/client/runner.js';
import { tensorFrom } from '../src/protocol/index.js';
import { BASYS3_FC_DIMS, Int8FcModel, type Int8FcDims } from '../src/conformance/int8-fc-model.js';

export function int8FcLoader(dims: Int8FcDims = BASYS3_FC_DIMS): ArtifactLoader {
  return async (record) => {
    const model = new Int8FcModel(new Uint8Array(await readFile(record.path)), dims);
    return handlerRunner((inputs) => {
      const x = inputs[0];
      if (inputs.length !== 1 || !x || x.dtype !== 'int8' || x.data.length !== dims.inputs) {
        throw inferError('infer.bad_input', {
          reason: `int8-fc takes one int8 tensor of ${dims.inputs} elements, got ${inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(', ') || 'none'}`,
          hint: `send tensorFrom('x', Int8Array of length ${dims.inputs})`,
          field: 'inputs',
        });
      }
      const r = model.infer(new Int8Array(x.data.buffer, x.data.byteOffset, x.data.length));
      return [tensorFrom('scores', r.scores, [dims.outputs]), tensorFrom('class', Uint8Array.of(r.classIndex), [1])];
    });
  };
}
