/** The ONNX graph partitioner (model parallelism): pure apart from the lazy onnx-proto import. */
export { partitionOnnx, partitionGraph, MAX_STAGES, type Partition, type PartitionOptions, type PartitionStage } from './partition-model.js';
export { chooseCuts, type CutChoice, type CutInput } from './choose-cuts.js';
export { PartitionError, type PartitionCode } from './partition-errors.js';
