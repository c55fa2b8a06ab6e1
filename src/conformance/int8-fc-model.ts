/**
 * Bit-exact behavioural model of hdl/basys3/rtl/int8_fc.v, the Basys 3's
 * compute kernel (runtime `int8-fc`, artifact kind `int8-fc-weights`).
 *
 *   score[o] = ReLU(bias[o] + Σ_i W[o][i]·x[i])   int32, wrapping mod 2^32 like the RTL
 *   class    = the lowest o with the largest score
 *
 * Artifact layout (what DEPLOY_CHUNKs carry, stored verbatim in block RAM):
 *   OUT·IN bytes of int8 weights, row-major (row o feeds output o),
 *   then OUT int32 little-endian biases.
 */
import { ConfigError, DeployError, InferError } from '../errors.js';
import { WIRE } from '../protocol/error-codes.js';

export interface Int8FcDims {
  /** Input vector length (RTL parameter IN). */
  readonly inputs: number;
  /** Number of classes (RTL parameter OUT). */
  readonly outputs: number;
}

/** The dimensions the Basys 3 build uses (edge_core defaults). */
export const BASYS3_FC_DIMS: Int8FcDims = { inputs: 16, outputs: 4 };

export interface Int8FcResult {
  /** Post-ReLU scores, one per class. */
  readonly scores: Int32Array;
  /** argmax(scores), lowest index on ties. */
  readonly classIndex: number;
}

export function int8FcArtifactSize(dims: Int8FcDims = BASYS3_FC_DIMS): number {
  return dims.outputs * dims.inputs + 4 * dims.outputs;
}

function checkDims(dims: Int8FcDims): void {
  for (const [name, v] of [['inputs', dims.inputs], ['outputs', dims.outputs]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 255) {
      throw new ConfigError({
        code: 'config.invalid',
        reason: `int8-fc ${name} must be an integer in 1..255, got ${v}`,
        hint: 'use the IN/OUT parameters the bitstream was built with (16 and 4 by default)',
        field: name,
      });
    }
  }
}

export class Int8FcModel {
  readonly dims: Int8FcDims;
  private readonly weights: Int8Array;
  private readonly bias: Int32Array;

  /** @param artifact the raw `int8-fc-weights` artifact (see the file comment for its layout) */
  constructor(artifact: Uint8Array, dims: Int8FcDims = BASYS3_FC_DIMS) {
    checkDims(dims);
    this.dims = dims;
    const size = int8FcArtifactSize(dims);
    if (artifact.length !== size) {
      throw new DeployError({
        code: 'deploy.load_failed',
        wire: WIRE['deploy.load_failed'],
        reason: `int8-fc-weights artifact is ${artifact.length} bytes, expected ${size} for ${dims.inputs}x${dims.outputs}`,
        hint: 'build the artifact with int8FcArtifact() for the kernel dimensions of the target bitstream',
        details: { size: artifact.length, expected: size },
      });
    }
    const nw = dims.inputs * dims.outputs;
    this.weights = new Int8Array(artifact.buffer.slice(artifact.byteOffset, artifact.byteOffset + nw));
    const view = new DataView(artifact.buffer, artifact.byteOffset + nw, 4 * dims.outputs);
    this.bias = Int32Array.from({ length: dims.outputs }, (_, o) => view.getInt32(4 * o, true));
  }

  infer(x: Int8Array): Int8FcResult {
    if (x.length !== this.dims.inputs) {
      throw new InferError({
        code: 'infer.bad_input',
        wire: WIRE['infer.bad_input'],
        reason: `int8-fc input has ${x.length} elements, the kernel takes ${this.dims.inputs}`,
        hint: `send one int8 tensor of shape [${this.dims.inputs}]`,
        field: 'inputs',
      });
    }
    const { inputs, outputs } = this.dims;
    const scores = new Int32Array(outputs);
    let classIndex = 0;
    for (let o = 0; o < outputs; o++) {
      let acc = this.bias[o]!;
      for (let i = 0; i < inputs; i++) acc = (acc + this.weights[o * inputs + i]! * x[i]!) | 0;
      scores[o] = acc < 0 ? 0 : acc;
      if (scores[o]! > scores[classIndex]!) classIndex = o;
    }
    return { scores, classIndex };
  }
}

/** Packs weights (row-major, int8) and int32 biases into the artifact layout. */
export function int8FcArtifact(weights: Int8Array, bias: Int32Array, dims: Int8FcDims = BASYS3_FC_DIMS): Uint8Array {
  checkDims(dims);
  if (weights.length !== dims.inputs * dims.outputs || bias.length !== dims.outputs) {
    throw new ConfigError({
      code: 'config.invalid',
      reason: `int8-fc needs ${dims.inputs * dims.outputs} weights and ${dims.outputs} biases, got ${weights.length} and ${bias.length}`,
      hint: 'weights are row-major [outputs][inputs]',
    });
  }
  const out = new Uint8Array(int8FcArtifactSize(dims));
  out.set(new Uint8Array(weights.buffer, weights.byteOffset, weights.length), 0);
  const view = new DataView(out.buffer);
  bias.forEach((b, o) => view.setInt32(weights.length + 4 * o, b, true));
  return out;
}
