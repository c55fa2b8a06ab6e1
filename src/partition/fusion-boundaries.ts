/**
 * Tensors a cut must not cross if the split model is to compute bit for bit what the whole model
 * does. onnxruntime (optimisation level 'all', what devices load with) fuses an operator with the
 * elementwise epilogue after it (Conv + Add + Relu into one FusedConv, MatMul + Add into Gemm,
 * MatMul + Mul into a scaled MatMul), folds a Transpose into the MatMul after it, and fuses chains
 * of elementwise and reduction operators (LayerNorm, GELU); a fused kernel rounds differently from
 * the operators run one by one. A cut at such a tensor would leave the pattern fused in the whole
 * model and unfused in the stages, so the partitioner keeps it out of its cuts (found by the
 * bit-exactness test: a cut between a Conv and the Add joining its branch changed the logits).
 * Layer boundaries stay open: an activation into the next Conv / MatMul / Gemm, a Concat, a pool,
 * a Softmax into a MatMul. Pure.
 */
const COMPUTE = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm', 'BatchNormalization', 'MatMulInteger', 'ConvInteger', 'QLinearConv', 'QLinearMatMul', 'Einsum']);
const ELEMENTWISE = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Reciprocal', 'Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Clip', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Softplus', 'Erf', 'Gelu', 'PRelu', 'Sum', 'Cast', 'Where', 'Exp', 'Neg', 'Abs', 'Mish',
  'ReduceMean', 'ReduceSum', 'LayerNormalization', 'BatchNormalization', 'InstanceNormalization', 'Softmax', 'Dropout', 'Identity',
]);
const LAYOUT = new Set(['Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Identity', 'Cast', 'DequantizeLinear', 'QuantizeLinear']);

/** Whether onnxruntime may fuse the writer of a tensor with one of its readers. */
export function fusesAcross(producerOp: string, consumerOps: readonly string[]): boolean {
  for (const c of consumerOps) {
    if (COMPUTE.has(producerOp) && ELEMENTWISE.has(c)) return true;
    if (LAYOUT.has(producerOp) && (COMPUTE.has(c) || LAYOUT.has(c))) return true;
    if (ELEMENTWISE.has(producerOp) && ELEMENTWISE.has(c)) return true;
  }
  return false;
}
