import { errorForCode } from '../../protocol/error-codes.js';
import type { DeviceRecord } from '../registry/store.js';

/**
 * Which targets can run an artifact kind, from the formats each device announced in its last
 * HELLO (caps.formats, kept in the registry). An FPGA that takes int8-fc-weights used to be
 * offered an ONNX model anyway and fail after the transfer.
 *
 * A device named by id that cannot run the kind refuses the whole deploy (the operator asked for
 * that device); a class or `all` is a group, so its devices that cannot are left out, and only a
 * group with none left refuses. A device never seen (no HELLO yet) is given the benefit of the
 * doubt: it refuses DEPLOY_OFFER itself with deploy.unsupported_kind when it connects.
 */
export function formatsOf(d: DeviceRecord): string[] | undefined {
  const f = d.caps?.formats;
  return Array.isArray(f) && f.every((x) => typeof x === 'string') ? (f as string[]) : undefined;
}

export function canRun(d: DeviceRecord, kind: string): boolean {
  const f = formatsOf(d);
  return f === undefined || f.includes(kind);
}

export function targetsForKind(kind: string, targets: DeviceRecord[], named: boolean): { run: DeviceRecord[]; skipped: DeviceRecord[] } {
  const skipped = targets.filter((d) => !canRun(d, kind));
  const run = targets.filter((d) => canRun(d, kind));
  if ((named && skipped.length > 0) || run.length === 0) {
    const list = skipped.map((d) => `${d.id} takes ${formatsOf(d)!.join(', ') || 'no artifacts'}`).join('; ');
    throw errorForCode('deploy.unsupported_kind', {
      reason: `no ${kind} artifacts for ${skipped.length === 1 ? 'this device' : 'these devices'}: ${list} (from their HELLO)`,
      hint: `deploy an artifact of a kind the device lists (\`epara devices show <id>\` shows its capabilities), or pick other targets with --to`,
      field: 'kind',
      details: { kind, devices: Object.fromEntries(skipped.map((d) => [d.id, formatsOf(d)])) },
    });
  }
  return { run, skipped };
}
