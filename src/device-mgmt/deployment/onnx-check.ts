import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DeployError } from '../../errors.js';

/**
 * Does a file look like an ONNX model (a serialised `onnx.ModelProto`) before it is offered to a
 * device? A text file renamed `.onnx` used to transfer 10 KiB before the device said
 * deploy.load_failed. This walks the protobuf's top-level fields only, reading each tag and
 * seeking over each payload, so a 500 MiB model costs a few small reads, not a parse.
 *
 * ModelProto (onnx/onnx.proto3): 1 ir_version (varint), 2-4 producer_name/producer_version/domain,
 * 5 model_version (varint), 6 doc_string, 7 graph, 8 opset_import, 14 metadata_props,
 * 20 training_info, 25 functions (length-delimited). Unknown fields are allowed (newer ONNX), with
 * a valid wire type; the walk must end exactly at the end of the file, and ir_version and graph
 * must be there.
 */
const VARINT_FIELDS = new Set([1, 5]);
const LEN_FIELDS = new Set([2, 3, 4, 6, 7, 8, 14, 20, 25]);

class Reader {
  private buf = Buffer.alloc(0);
  private bufAt = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}
  byte(at: number): number | undefined {
    if (at >= this.size) return undefined;
    if (at < this.bufAt || at >= this.bufAt + this.buf.length) {
      this.buf = Buffer.alloc(Math.min(4096, this.size - at));
      this.bufAt = at;
      readSync(this.fd, this.buf, 0, this.buf.length, at);
    }
    return this.buf[at - this.bufAt];
  }
  /** A varint at `at` as [value, next offset]; undefined when cut off or longer than 10 bytes. */
  varint(at: number): [number, number] | undefined {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte(at + i);
      if (b === undefined) return undefined;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return [v, at + i + 1];
    }
    return undefined;
  }
}

/** Why the bytes are not an ONNX model, or undefined when the structure holds. */
export function onnxProblem(path: string): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const r = new Reader(fd, fstatSync(fd).size);
    if (r.size === 0) return 'the file is empty';
    const seen = new Set<number>();
    let at = 0;
    while (at < r.size) {
      const tag = r.varint(at);
      if (!tag) return `byte ${at}: a field tag is cut off`;
      const [key, next] = tag;
      const field = Math.floor(key / 8);
      const wire = key % 8;
      if (field === 0 || ![0, 1, 2, 5].includes(wire)) return `byte ${at}: 0x${r.byte(at)!.toString(16).padStart(2, '0')} is not a protobuf field tag (field ${field}, wire type ${wire})`;
      if (VARINT_FIELDS.has(field) && wire !== 0) return `byte ${at}: ModelProto field ${field} must be a varint`;
      if (LEN_FIELDS.has(field) && wire !== 2) return `byte ${at}: ModelProto field ${field} must be length-delimited`;
      seen.add(field);
      if (wire === 0) {
        const v = r.varint(next);
        if (!v) return `byte ${next}: a varint is cut off`;
        at = v[1];
      } else if (wire === 1) at = next + 8;
      else if (wire === 5) at = next + 4;
      else {
        const len = r.varint(next);
        if (!len) return `byte ${next}: a length is cut off`;
        at = len[1] + len[0];
      }
      if (at > r.size) return `field ${field} runs past the end of the file (${at} > ${r.size} bytes)`;
    }
    if (!seen.has(1)) return 'it has no ir_version (ModelProto field 1)';
    if (!seen.has(7)) return 'it has no graph (ModelProto field 7)';
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export function checkOnnxArtifact(path: string, label: string): void {
  const problem = onnxProblem(path);
  if (problem) {
    throw new DeployError({
      code: 'deploy.bad_artifact',
      reason: `${label} is not an ONNX model: ${problem}`,
      hint: 'deploy the .onnx file itself; for other artifacts give the kind (`epara deploy … --kind blob` or --kind int8-fc-weights)',
      field: 'artifact',
    });
  }
}
