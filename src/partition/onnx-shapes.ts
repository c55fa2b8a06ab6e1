/**
 * The plain shapes of an ONNX model the partitioner reads and writes: a structural subset of
 * onnx-proto's interfaces (onnx/onnx.proto), so the pure code here never names the optional
 * `onnx-proto` package in a public type. int64 fields decode as numbers or Long objects
 * (protobufjs), read through `toNum`.
 */
export type Int64 = number | { toString(): string } | null | undefined;

export interface OnnxDim {
  dimValue?: Int64;
  dimParam?: string | null;
}
export interface OnnxValueInfo {
  name?: string | null;
  type?: { tensorType?: { elemType?: number | null; shape?: { dim?: OnnxDim[] | null } | null } | null } | null;
  docString?: string | null;
}
export interface OnnxTensor {
  name?: string | null;
  dims?: Int64[] | null;
  dataType?: number | null;
  rawData?: Uint8Array | null;
  floatData?: number[] | null;
  int32Data?: number[] | null;
  int64Data?: Int64[] | null;
  doubleData?: number[] | null;
  uint64Data?: Int64[] | null;
  stringData?: Uint8Array[] | null;
}
export interface OnnxAttribute {
  name?: string | null;
  type?: number | null;
  i?: Int64;
  f?: number | null;
  s?: Uint8Array | null;
  ints?: Int64[] | null;
  t?: OnnxTensor | null;
  g?: OnnxGraphProto | null;
  graphs?: OnnxGraphProto[] | null;
}
export interface OnnxNode {
  input?: string[] | null;
  output?: string[] | null;
  name?: string | null;
  opType?: string | null;
  domain?: string | null;
  attribute?: OnnxAttribute[] | null;
}
export interface OnnxGraphProto {
  node?: OnnxNode[] | null;
  name?: string | null;
  initializer?: OnnxTensor[] | null;
  sparseInitializer?: unknown[] | null;
  input?: OnnxValueInfo[] | null;
  output?: OnnxValueInfo[] | null;
  valueInfo?: OnnxValueInfo[] | null;
  docString?: string | null;
}
export interface OnnxModel {
  irVersion?: Int64;
  opsetImport?: Array<{ domain?: string | null; version?: Int64 }> | null;
  producerName?: string | null;
  producerVersion?: string | null;
  domain?: string | null;
  modelVersion?: Int64;
  docString?: string | null;
  graph?: OnnxGraphProto | null;
  metadataProps?: Array<{ key?: string | null; value?: string | null }> | null;
  functions?: unknown[] | null;
}

export function toNum(v: Int64): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : Number(v.toString());
}

/** TensorProto.DataType: element sizes in bytes (STRING and the rest: unknown). */
export const ELEM_BYTES: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };
export const ELEM = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;
