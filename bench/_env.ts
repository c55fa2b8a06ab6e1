/** Range-checked benchmark knobs from the environment: a typo is a ConfigError, not a NaN run. */
import { resolveNumber, type NumberOptionSpec } from '../src/options.js';

/** A comma-separated list of numbers, each checked against `spec`; `dflt` when unset. */
export function envList(name: string, dflt: number[], spec: NumberOptionSpec = { default: 1, min: 0.01, max: 1000, unit: '× load' }): number[] {
  const v = process.env[name];
  if (!v) return dflt;
  return v.split(',').map((x) => resolveNumber(name, asNumber(x), spec));
}

/** One number, checked against `spec`; its default when unset or empty. */
export function envNumber(name: string, spec: NumberOptionSpec): number {
  const v = process.env[name];
  return resolveNumber(name, v === undefined || v === '' ? undefined : asNumber(v), spec);
}

/** The number a knob's text spells, or the text itself, so an error shows what was typed. */
function asNumber(text: string): number | string {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}
