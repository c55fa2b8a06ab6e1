import type { InferRequestMessage, Message } from '../../protocol/index.js';
import { toErrorMessage } from '../../protocol/index.js';
import { asEparaError, inferError } from '../client-errors.js';
import type { ServiceTable } from '../services.js';
import type { DeviceHandlers } from './table.js';

export interface InferHost {
  readonly services: ServiceTable;
  served(info: { service: string; requestId: number; queueUs: number; computeUs: number }): void;
}

/**
 * INFER_REQUEST and INFER_CANCEL (SPEC §5.12), the device's side: each request goes through its
 * service's queue (batching, deadlines); a cancel drops a request nobody waits for any more.
 */
export function inferHandlers(h: InferHost): Pick<DeviceHandlers, 'INFER_REQUEST' | 'INFER_CANCEL'> {
  /** Request id → service, for the requests running now. */
  const inflight = new Map<number, string>();
  return {
    INFER_REQUEST: async (msg: InferRequestMessage): Promise<Message> => {
      try {
        const entry = h.services.ready(msg.service);
        if (inflight.has(msg.requestId)) {
          throw inferError('infer.bad_input', { reason: `request id ${msg.requestId} is already in progress`, hint: 'use a fresh requestId per request', field: 'requestId' });
        }
        inflight.set(msg.requestId, msg.service);
        try {
          const r = await entry.queue.submit({ requestId: msg.requestId, inputs: msg.inputs, deadlineUs: msg.deadlineUs, flowId: msg.flowId });
          h.served({ service: msg.service, requestId: msg.requestId, queueUs: r.queueUs, computeUs: r.computeUs });
          return { type: 'INFER_RESPONSE', requestId: msg.requestId, outputs: r.outputs, queueUs: r.queueUs, computeUs: r.computeUs };
        } finally {
          inflight.delete(msg.requestId);
        }
      } catch (e) {
        return toErrorMessage(asEparaError(e, (m) => inferError('infer.runtime', { reason: m, hint: 'check the service on this device', cause: e })));
      }
    },
    INFER_CANCEL: (msg) => {
      const service = inflight.get(msg.requestId);
      if (service) h.services.entries.get(service)?.queue?.cancel(msg.requestId);
    },
  };
}
