/**
 * What the kit deploys: an artifact of a kind the device lists in HELLO `caps.formats`, and an
 * input that runs on it. Built in: `int8-fc-weights` (the Basys 3 16→4 layout), `onnx` (the MLP
 * fixture, float32 [1,16]) and `blob` (bytes that are stored, never run). A device maker with
 * another model gives it with --artifact/--kind/--input.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import type { ArtifactKind } from '../protocol/messages/types.js';
import { tensorFrom, type Tensor } from '../protocol/tensor.js';
import { int8FcArtifact, BASYS3_FC_DIMS } from './int8-fc-model.js';
import { ConformError } from './conform-error.js';

export interface TestArtifact {
  kind: ArtifactKind;
  /** The artifact for version `v` (each version differs so a stale one cannot pass). */
  bytes(v: number): Uint8Array;
  /** A valid input, when the kind is runnable. */
  input?: Tensor[];
  /** An input of the right dtype but the wrong element count (infer.bad_input is due). */
  wrongInput?: Tensor[];
  /** The element type and size of the first input (for the hand-made shape-mismatch body). */
  description: string;
}

export function sha256(b: Uint8Array): Uint8Array {
  return createHash('sha256').update(b).digest();
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
}

function fixture(name: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const p = join(dir, 'fixtures', 'models', name);
    if (existsSync(p)) return p;
    if (dirname(dir) === dir) throw new ConformError({ code: 'conform.artifact', reason: `fixtures/models/${name} is not installed next to epara`, hint: 'give your own model with --artifact FILE --kind onnx --input JSON' });
  }
}

export function builtinArtifact(kind: ArtifactKind): TestArtifact {
  if (kind === 'int8-fc-weights') {
    const { inputs, outputs } = BASYS3_FC_DIMS;
    return {
      kind,
      description: `int8-fc-weights ${inputs}→${outputs}`,
      bytes: (v) => {
        const r = lcg(0xc0f0 + v);
        return int8FcArtifact(Int8Array.from({ length: inputs * outputs }, () => r() - 128), Int32Array.from({ length: outputs }, () => (r() << 4) - 2048));
      },
      input: [tensorFrom('x', Int8Array.from({ length: inputs }, (_, i) => (i * 37) % 256 - 128), [inputs])],
      wrongInput: [tensorFrom('x', new Int8Array(inputs / 2), [inputs / 2])],
    };
  }
  if (kind === 'onnx') {
    const model = readFileSync(fixture('mlp-classifier.onnx'));
    return {
      kind,
      description: 'onnx mlp-classifier (float32 [1,16])',
      // Each version differs (so its SHA-256 does): ModelProto field 6, doc_string, appended
      // once more; protobuf keeps the last value of a singular field, so the model is unchanged.
      bytes: (v) => {
        const doc = Buffer.from(`epara conform version ${v}`);
        return Uint8Array.from([...model, 0x32, doc.length, ...doc]);
      },
      input: [tensorFrom('input', Float32Array.from({ length: 16 }, (_, i) => Math.cos(i)), [1, 16])],
      wrongInput: [tensorFrom('input', new Float32Array(8), [1, 8])],
    };
  }
  return {
    kind,
    description: 'blob (stored, not run)',
    bytes: (v) => {
      const r = lcg(0xb10b + v);
      return Uint8Array.from({ length: 600 }, () => r());
    },
  };
}

/** The kind to test with: the caller's choice, else the first built-in kind the device lists. */
export function pickKind(formats: readonly string[], wanted?: string): ArtifactKind | undefined {
  const order: ArtifactKind[] = ['int8-fc-weights', 'onnx', 'blob'];
  if (wanted) return formats.includes(wanted) ? (wanted as ArtifactKind) : undefined;
  return order.find((k) => formats.includes(k));
}

/** A device maker's own artifact: the same bytes every version. */
export function customArtifact(kind: ArtifactKind, bytes: Uint8Array, input?: Tensor[]): TestArtifact {
  return { kind, description: `${kind} from --artifact (${bytes.length} bytes)`, bytes: () => bytes, ...(input ? { input } : {}) };
}
