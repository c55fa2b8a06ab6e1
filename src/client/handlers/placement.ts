import { ConfigError, EparaError } from '../../errors.js';
import { resolveNumbers } from '../../options.js';
import { WIRE, type Message, type PlacementMessage } from '../../protocol/index.js';
import { asEparaError, CLIENT_WIRE_CODES, wireOf } from '../client-errors.js';
import { QUEUE_SPECS, type QueueSettings } from '../inference.js';
import type { ServiceTable } from '../services.js';
import type { DeviceHandlers } from './table.js';

export interface PlacementHost {
  readonly services: ServiceTable;
  changed(): void;
}

/**
 * PLACEMENT (SPEC §5.10), the device's side: load, unload or configure services as the plan says,
 * one result code per op. A plan older than the last one applied is refused whole (stale_plan).
 */
export function placementHandler(h: PlacementHost): Pick<DeviceHandlers, 'PLACEMENT'> {
  let lastPlan = -1;
  return {
    PLACEMENT: async (msg: PlacementMessage): Promise<Message> => {
      if (msg.planVersion < lastPlan) {
        return { type: 'PLACEMENT_ACK', planVersion: msg.planVersion, results: msg.ops.map((op) => ({ service: op.service, code: CLIENT_WIRE_CODES['placement.stale_plan'] })) };
      }
      lastPlan = msg.planVersion;
      const results = [];
      for (const op of msg.ops) {
        let code = 0;
        try {
          const settings: QueueSettings = {};
          if (op.settings?.batch !== undefined) settings.batch = op.settings.batch;
          if (op.settings?.maxQueue !== undefined) settings.maxQueue = op.settings.maxQueue;
          if (op.settings?.replicas !== undefined) settings.concurrency = Math.max(1, op.settings.replicas);
          if (op.action === 'unload') {
            code = (await h.services.unload(op.service)) ? 0 : CLIENT_WIRE_CODES['placement.unknown_service'];
          } else {
            // Validate before remembering: a bad value must not poison the queue built at the next deploy.
            const merged = { ...h.services.pendingSettings.get(op.service), ...settings };
            resolveNumbers(QUEUE_SPECS, merged, 'settings.');
            h.services.pendingSettings.set(op.service, merged);
            let entry = h.services.entries.get(op.service);
            if (op.action === 'load' && (!entry || entry.status === 'unloaded')) entry = await h.services.reload(op.service);
            if (!entry || (op.version !== undefined && op.action === 'load' && entry.version !== op.version)) code = CLIENT_WIRE_CODES['placement.unknown_service'];
            else entry.queue?.configure(settings);
          }
        } catch (e) {
          code = e instanceof ConfigError ? WIRE['msg.schema'] : wireOf(asEparaError(e, (m) => new EparaError({ code: 'internal', wire: WIRE.internal, reason: m, hint: '' })));
        }
        results.push({ service: op.service, code });
      }
      h.changed();
      return { type: 'PLACEMENT_ACK', planVersion: msg.planVersion, results };
    },
  };
}
