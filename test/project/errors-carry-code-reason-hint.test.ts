import { describe, expect, it } from 'vitest';
import { ConfigError, EparaError, isEparaError } from '../../src/errors.js';
import { resolveNumber, resolveNumbers } from '../../src/options.js';

describe('typed errors', () => {
  it('carry a namespaced code, a one-line reason and a hint', () => {
    const e = new ConfigError({ code: 'config.range', reason: 'x is out of range', hint: 'use 1..2', field: 'x' });
    expect(isEparaError(e)).toBe(true);
    expect(e).toBeInstanceOf(EparaError);
    expect(e.name).toBe('ConfigError');
    expect(e.area).toBe('config');
    expect(e.message).toBe('config.range: x is out of range');
    expect(e.toHuman()).toContain('hint: use 1..2');
    expect(e.toJSON()).toMatchObject({ code: 'config.range', field: 'x' });
  });
});

describe('validated options', () => {
  const spec = { default: 3000, min: 100, max: 60_000, integer: true, unit: 'ms' };
  it('apply the default when absent', () => {
    expect(resolveNumber('stateMs', undefined, spec)).toBe(3000);
  });
  it('reject values outside the range with the range in the hint', () => {
    expect(() => resolveNumber('stateMs', 50, spec)).toThrowError(/outside 100..60000/);
    try {
      resolveNumber('stateMs', 50, spec);
    } catch (e) {
      expect((e as ConfigError).code).toBe('config.range');
      expect((e as ConfigError).hint).toMatch(/between 100 and 60000/);
    }
  });
  it('reject non-numbers and fractions where a whole number is needed', () => {
    expect(() => resolveNumber('stateMs', '3000', spec)).toThrowError(/must be a finite number, got "3000"/);
    // What was typed is shown (cut short when long), not just its type.
    expect(() => resolveNumber('stateMs', 'x'.repeat(100), spec)).toThrowError(/got "x{40}…"/);
    expect(() => resolveNumber('stateMs', true, spec)).toThrowError(/got boolean/);
    expect(() => resolveNumber('stateMs', 1.5e3 + 0.5, spec)).toThrowError(/whole number/);
    expect(() => resolveNumber('stateMs', Number.NaN, spec)).toThrowError(/finite/);
  });
  it('resolve a table of options at once, naming the failing one', () => {
    const out = resolveNumbers({ a: spec, b: { default: 1, min: 0, max: 2 } }, { b: 2 });
    expect(out).toEqual({ a: 3000, b: 2 });
    expect(() => resolveNumbers({ a: spec }, { a: 0 }, 'server.')).toThrowError(/server\.a/);
  });
});
