/**
 * The message interfaces in src/protocol/messages/types.ts are what users program against; the
 * catalogue (src/protocol/messages/catalogue.ts) is what the codec validates; protocol/epara.cddl is
 * checked against the catalogue elsewhere. This test closes the chain: it reads the interfaces with
 * the TypeScript compiler and checks every property name, optionality and kind (number, string,
 * Uint8Array, boolean, string-literal enum, nested object, array, tuple, Tensor) against the
 * catalogue, recursively.
 */
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { fileURLToPath } from 'node:url';
import { CATALOGUE } from '../../src/protocol/messages/catalogue.js';
import type { FieldSpec, TypeSpec } from '../../src/protocol/messages/schema.js';
import { MessageType, type MessageName } from '../../src/protocol/index.js';

const file = fileURLToPath(new URL('../../src/protocol/messages/types.ts', import.meta.url));
const program = ts.createProgram([file], {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  skipLibCheck: true,
  noEmit: true,
  types: [],
});
const checker = program.getTypeChecker();
const source = program.getSourceFile(file)!;
const exported = new Map(checker.getExportsOfModule(checker.getSymbolAtLocation(source)!).map((s) => [s.name, s]));

const interfaceName = (n: MessageName) => n.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase()) + 'Message';

function compareObject(path: string, type: ts.Type, fields: readonly FieldSpec[], problems: string[], skip: string[] = []): void {
  const props = type.getProperties().filter((p) => !skip.includes(p.name));
  const names = new Set(props.map((p) => p.name));
  for (const f of fields) if (!names.has(f.name)) problems.push(`${path}.${f.name}: in the catalogue, missing from the TypeScript type`);
  for (const p of props) {
    const f = fields.find((x) => x.name === p.name);
    if (!f) {
      problems.push(`${path}.${p.name}: in the TypeScript type, not in the catalogue`);
      continue;
    }
    const optional = (p.flags & ts.SymbolFlags.Optional) !== 0;
    if (optional === f.required) problems.push(`${path}.${p.name}: ${optional ? 'optional' : 'required'} in TypeScript, ${f.required ? 'required' : 'optional'} in the catalogue`);
    const pt = checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(p, source));
    compareType(`${path}.${p.name}`, pt, f.type, problems);
  }
}

function compareType(path: string, t: ts.Type, spec: TypeSpec, problems: string[]): void {
  const text = checker.typeToString(t);
  const expectKind = (ok: boolean, what: string) => {
    if (!ok) problems.push(`${path}: catalogue says ${what}, TypeScript says ${text}`);
  };
  switch (spec.t) {
    case 'uint':
    case 'int':
      return expectKind((t.flags & ts.TypeFlags.Number) !== 0, 'a number');
    case 'tstr':
      return expectKind((t.flags & ts.TypeFlags.String) !== 0, 'a string');
    case 'bool':
      return expectKind((t.flags & ts.TypeFlags.Boolean) !== 0 || text === 'boolean', 'a boolean');
    case 'bstr':
      return expectKind(text.startsWith('Uint8Array'), 'a Uint8Array');
    case 'enum': {
      const literals = t.isUnion() ? t.types.map((x) => (x.isStringLiteral() ? x.value : '?')) : t.isStringLiteral() ? [t.value] : [];
      return expectKind(literals.length === spec.values.length && literals.every((l) => spec.values.includes(l)), `one of ${spec.values.join('|')}`);
    }
    case 'range':
      return expectKind(checker.isTupleType(t) && text === '[number, number]', '[number, number]');
    case 'tensor':
      return expectKind(text === 'Tensor', 'a Tensor');
    case 'array': {
      if (!checker.isArrayType(t)) return expectKind(false, 'an array');
      const el = checker.getTypeArguments(t as ts.TypeReference)[0]!;
      return compareType(`${path}[]`, el, spec.of, problems);
    }
    case 'map':
      if (!(t.flags & ts.TypeFlags.Object)) return expectKind(false, 'an object');
      return compareObject(path, t, spec.fields, problems);
  }
}

describe('TypeScript message types', () => {
  it('declare exactly the catalogue fields, with the same optionality and kinds, for every message', () => {
    const problems: string[] = [];
    for (const name of Object.keys(MessageType) as MessageName[]) {
      const sym = exported.get(interfaceName(name));
      if (!sym) {
        problems.push(`${name}: no exported ${interfaceName(name)}`);
        continue;
      }
      const type = checker.getDeclaredTypeOfSymbol(sym);
      const typeProp = type.getProperty('type');
      const typeOfType = typeProp && checker.typeToString(checker.getTypeOfSymbolAtLocation(typeProp, source));
      if (typeOfType !== `"${name}"`) problems.push(`${name}: discriminant is ${typeOfType}`);
      compareObject(name, type, CATALOGUE[name], problems, ['type']);
    }
    expect(problems).toEqual([]);
  });

  it('the comparison notices a mismatch (it is not vacuous)', () => {
    const problems: string[] = [];
    const type = checker.getDeclaredTypeOfSymbol(exported.get('HelloMessage')!);
    const altered = CATALOGUE.HELLO.map((f) => (f.name === 'keepaliveMs' ? { ...f, required: true } : f.name === 'firmware' ? { ...f, type: { t: 'uint' } as TypeSpec } : f));
    compareObject('HELLO', type, altered, problems, ['type']);
    expect(problems.length).toBe(2);
  });
});
