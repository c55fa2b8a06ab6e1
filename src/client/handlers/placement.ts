import { ConfigError, EparaError } from '../../errors.js';
import { resolveNumbers } from '../../options.js';
import { WIRE, type Message, type PipelineStage, type PlacementMessage } from '../../protocol/index.js';
import { asEparaError, CLIENT_WIRE_CODES, wireOf } from '../client-errors.js';
import { QUEUE_SPECS, type QueueSettings } from '../inference.js';
import type { ServiceTable } from '../services.js';
import type { DeviceHandlers } from './table.js';

export interface PlacementHost {
  readonly services: ServiceTable;
  changed(): void;
}

/**
 * A pipeline stage (protocol version 2) fits the loaded model when the model reads every tensor
 * the stage is fed and produces every tensor it must hand on. A service with no known tensor
 * names (a custom handler) is taken on trust.
 */
function stageMatches(stage: PipelineStage, names: { inputs: string[]; outputs: string[] } | undefined): boolean {
  if (!names) return true;
  return stage.inputNames.every((n) => names.inputs.includes(n)) && names.inputs.every((n) => stage.inputNames.includes(n)) && stage.outputNames.every((n) => names.outputs.includes(n));
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
            else if (op.pipeline && !stageMatches(op.pipeline, h.services.tensorNames.get(op.service))) code = CLIENT_WIRE_CODES['placement.stage_mismatch'];
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
