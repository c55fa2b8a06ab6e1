import { ConfigError } from './errors.js';

/** A numeric option with a validated range; `resolveNumber` applies the default and checks bounds. */
export interface NumberOptionSpec {
  default: number;
  min: number;
  max: number;
  integer?: boolean;
  unit?: string;
}

export function resolveNumber(name: string, value: unknown, spec: NumberOptionSpec): number {
  if (value === undefined || value === null) return spec.default;
  const unit = spec.unit ? ` ${spec.unit}` : '';
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError({
      code: 'config.type',
      reason: `option ${name} must be a finite number, got ${typeof value === 'number' ? String(value) : typeof value === 'string' ? JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value) : typeof value}`,
      hint: `pass a number between ${spec.min} and ${spec.max}${unit}, or leave it out for the default ${spec.default}${unit}`,
      field: name,
    });
  }
  if (spec.integer && !Number.isInteger(value)) {
    throw new ConfigError({
      code: 'config.type',
      reason: `option ${name} must be a whole number, got ${value}`,
      hint: `pass an integer between ${spec.min} and ${spec.max}${unit}`,
      field: name,
    });
  }
  if (value < spec.min || value > spec.max) {
    throw new ConfigError({
      code: 'config.range',
      reason: `option ${name}=${value}${unit} is outside ${spec.min}..${spec.max}${unit}`,
      hint: `choose a value between ${spec.min} and ${spec.max}${unit} (default ${spec.default}${unit})`,
      field: name,
      details: { value, min: spec.min, max: spec.max },
    });
  }
  return value;
}

/** Resolve every numeric option of a spec table at once. */
export function resolveNumbers<K extends string>(
  specs: Record<K, NumberOptionSpec>,
  given: Partial<Record<K, unknown>> | undefined,
  prefix = '',
): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const key of Object.keys(specs) as K[]) {
    out[key] = resolveNumber(prefix + key, given?.[key], specs[key]);
  }
  return out;
}
