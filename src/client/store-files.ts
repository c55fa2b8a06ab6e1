/**
 * The device artifact store's file primitives: an atomic, durable JSON write (temp file, datasync,
 * rename), a read that treats missing or torn metadata as absent, sizes, and a file's SHA-256.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';

let atomicWrites = 0;
export async function atomicWrite(path: string, text: string): Promise<void> {
  // Unique per write, so two writers of one path never share (and rename away) a temporary file.
  const tmp = `${path}.tmp-${process.pid}-${++atomicWrites}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    // Missing or torn metadata means "nothing usable here": the transfer restarts.
    return undefined;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await dirBytes(p) : await fileSize(p);
  }
  return total;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}
