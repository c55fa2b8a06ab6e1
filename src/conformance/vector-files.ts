/** Where protocol/vectors/ is: next to the installed package, whether running from src/ or dist/src/. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConformError } from './conform-error.js';

export function vectorsFile(name: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const p = join(dir, 'protocol', 'vectors', name);
    if (existsSync(p)) return p;
    if (dirname(dir) === dir) throw new ConformError({ code: 'conform.vectors', reason: `protocol/vectors/${name} is not installed next to epara`, hint: 'reinstall epara (the package ships protocol/), or run from a checkout' });
  }
}
