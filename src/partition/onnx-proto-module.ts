/**
 * onnx-proto (protobufjs classes of onnx/onnx.proto), imported on first use: it is an optional
 * peer dependency, needed only by a gateway that splits models (the partitioner), so a device app
 * or a gateway that never splits does not install it.
 */
import { partitionError } from './partition-errors.js';
import type { OnnxModel } from './onnx-shapes.js';

export interface OnnxCodec {
  decode(bytes: Uint8Array): OnnxModel;
  encode(model: OnnxModel): Uint8Array;
}

let codec: Promise<OnnxCodec> | undefined;

export function loadOnnxCodec(): Promise<OnnxCodec> {
  codec ??= import('onnx-proto').then(
    (mod) => {
      const onnx = (mod.default ?? mod).onnx;
      return {
        decode: (bytes) => {
          try {
            return onnx.ModelProto.decode(bytes) as OnnxModel;
          } catch (e) {
            throw partitionError('partition.bad_model', `the bytes are not an ONNX model: ${(e as Error).message.split('\n', 1)[0]}`, 'check the file opens in onnxruntime (epara deploy checks it too)');
          }
        },
        encode: (model) => onnx.ModelProto.encode(model as Parameters<typeof onnx.ModelProto.encode>[0]).finish(),
      };
    },
    (e: unknown) => {
      codec = undefined;
      throw partitionError('partition.onnx_proto_missing', `onnx-proto cannot be loaded (${(e as Error).message.split('\n', 1)[0]}); the partitioner reads ONNX models with it`, 'install it where the gateway runs, in the app folder that depends on epara: npm install onnx-proto@8');
    },
  );
  return codec;
}
