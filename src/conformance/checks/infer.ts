/**
 * Inference (SPEC §4.1, §5.12): a valid request is answered with its requestId and well-formed
 * tensors; a tensor whose shape does not match its data is msg.schema (113) whatever the
 * service; a well-formed input the model cannot take is infer.bad_input (502); an unknown
 * service is infer.unknown_service (500).
 */
import { checkTable } from '../check.js';
import { CheckFailure, expectThat } from '../conform-error.js';
import type { RunContext } from '../context.js';
import { describe, NO_SERVICE } from '../gateway.js';
import { inferBody } from '../bodies.js';
import { MessageType, type InferRequestMessage, type Message } from '../../protocol/messages/types.js';
import { DTYPE_BY_NAME, elementCount, tensorValues } from '../../protocol/tensor.js';
import { Int8FcModel } from '../int8-fc-model.js';

export const INFER_CHECKS = checkTable('infer', {
  ok: { id: 'infer.ok', title: 'INFER_REQUEST → INFER_RESPONSE with its requestId and well-formed outputs', spec: '§5.12, §4.1' },
  shape: { id: 'infer.shape-mismatch', title: 'a tensor whose shape does not match its data length is ERROR 113', spec: '§4.1' },
  badInput: { id: 'infer.bad-input', title: 'a well-formed input of the wrong size is ERROR 502 infer.bad_input', spec: '§5.12' },
  unknownService: { id: 'infer.unknown-service', title: 'a request for a service the device does not have is ERROR 500', spec: '§5.12' },
});

let nextRequestId = 7000;

export function inferRequest(c: RunContext): InferRequestMessage {
  return { type: 'INFER_REQUEST', requestId: nextRequestId++, service: c.deployed!.service, inputs: c.artifact!.input! };
}

/** One request that must succeed; returns the response (throws CheckFailure otherwise). */
export async function inferOnce(c: RunContext): Promise<Extract<Message, { type: 'INFER_RESPONSE' }>> {
  const req = inferRequest(c);
  const { answer } = await c.g.peer.request(req, Math.max(c.g.t.answerMs, 10_000));
  if (!answer) throw new CheckFailure(`INFER_REQUEST ${req.requestId} to ${req.service}: no answer`);
  const m = answer.message;
  if (m.type !== 'INFER_RESPONSE') throw new CheckFailure(`INFER_REQUEST to ${req.service} answered with ${describe(m)}`);
  expectThat(m.requestId === req.requestId, `INFER_RESPONSE requestId ${m.requestId}, the request was ${req.requestId}`);
  expectThat(m.outputs.length > 0, 'INFER_RESPONSE has no outputs');
  for (const t of m.outputs) expectThat(t.data.length === elementCount(t.shape) * DTYPE_BY_NAME.get(t.dtype)!.bytes, `output ${t.name} shape ${JSON.stringify(t.shape)} does not match its ${t.data.length} bytes`);
  return m;
}

export async function inferChecks(c: RunContext): Promise<void> {
  const { g, r } = c;
  if (!c.deployed || !c.artifact?.input) r.skip(INFER_CHECKS.ok, c.noArtifact ?? `${c.artifact?.description ?? 'the artifact'} is not runnable`);
  else
    await r.run(INFER_CHECKS.ok, async () => {
      const m = await inferOnce(c);
      const outs = m.outputs.map((t) => `${t.name} ${t.dtype}${JSON.stringify(t.shape)}`).join(', ');
      if (c.artifact!.kind === 'int8-fc-weights' && c.artifact!.description.startsWith('int8-fc-weights')) {
        // the built-in artifact: the answer is known exactly (the RTL's bit-exact model)
        const model = new Int8FcModel(c.artifact!.bytes(Number(c.deployed!.version.split('-')[1])));
        const want = model.infer(tensorValues(c.artifact!.input![0]!) as Int8Array);
        const scores = m.outputs.find((t) => t.name === 'scores');
        if (scores) expectThat(JSON.stringify(Array.from(tensorValues(scores) as Int32Array)) === JSON.stringify(Array.from(want.scores)), `scores ${Array.from(tensorValues(scores) as Int32Array).join(',')} differ from the int8-fc reference ${Array.from(want.scores).join(',')}`);
      }
      return `outputs ${outs}`;
    });

  await r.run(INFER_CHECKS.shape, async () => {
    const t = c.artifact?.input?.[0];
    const dtype = t?.dtype ?? 'uint8';
    const data = t?.data ?? new Uint8Array(16);
    const size = DTYPE_BY_NAME.get(dtype)!.bytes;
    const elems = data.length / size;
    // a shape whose product is not the element count
    const shape = [elems === 5 ? 6 : 5];
    const service = c.deployed?.service ?? NO_SERVICE;
    await g.expectError(() => g.peer.sendBody(MessageType.INFER_REQUEST, inferBody(nextRequestId++, service, t?.name ?? 'x', dtype, shape, data)), 'msg.schema', `INFER ${dtype} shape [${shape}] with ${data.length} bytes`);
    await g.alive('the shape mismatch');
    return `${dtype} shape [${shape}] with ${data.length} data bytes refused with 113`;
  });

  if (!c.deployed || !c.artifact?.wrongInput) r.skip(INFER_CHECKS.badInput, c.noArtifact ?? 'no input of the wrong size is known for this artifact');
  else
    await r.run(INFER_CHECKS.badInput, async () => {
      const w = c.artifact!.wrongInput![0]!;
      await g.expectError(() => g.peer.send({ type: 'INFER_REQUEST', requestId: nextRequestId++, service: c.deployed!.service, inputs: c.artifact!.wrongInput! }), 'infer.bad_input', `INFER with ${w.dtype}${JSON.stringify(w.shape)}`);
      return `${w.dtype}${JSON.stringify(w.shape)} refused with 502`;
    });

  await r.run(INFER_CHECKS.unknownService, async () => {
    await g.expectError(() => g.peer.send({ type: 'INFER_REQUEST', requestId: nextRequestId++, service: NO_SERVICE, inputs: [{ name: 'x', dtype: 'uint8', shape: [2], data: new Uint8Array(2) }] }), 'infer.unknown_service', `INFER for ${NO_SERVICE}`);
    return 'refused with 500';
  });
}
