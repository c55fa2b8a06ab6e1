import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { SCHEDULER_NAMES } from '../server-adapter/scheduler-wiring.js';

/**
 * Where epara keeps its state, and the optional config file.
 *
 * Data dir precedence: --data-dir, then $EPARA_DATA_DIR, then $XDG_STATE_HOME/epara, then
 * ~/.local/state/epara. The registry (SQLite), the HTTP token and the running server's address
 * live there; it is state, not configuration, hence the XDG *state* directory.
 *
 * Config file precedence: --config FILE, then <data dir>/config.json when it exists. It only
 * supplies defaults for flags; a flag on the command line always wins.
 */
export interface EparaConfig {
  serve?: {
    tcp?: string[];
    serial?: string[];
    ble?: boolean;
    http?: string;
    metrics?: boolean;
    openEnrolment?: boolean;
    /** epara, round-robin, least-outstanding or off (`epara serve --scheduler`). */
    scheduler?: string;
    heartbeatMs?: number;
    stateSyncMs?: number;
    placementMs?: number;
    /** MQTT broker URL (`epara serve --mqtt`), its topic prefix and the CA file for mqtts://. */
    mqtt?: string;
    mqttPrefix?: string;
    mqttCa?: string;
  };
  /** Base URL of a running `epara serve --http` for register/devices/deploy/infer. */
  server?: string;
}

export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  if (env.EPARA_DATA_DIR) return resolve(env.EPARA_DATA_DIR);
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec says relative values must be ignored.
  if (xdg && isAbsolute(xdg)) return join(xdg, 'epara');
  const home = env.HOME && isAbsolute(env.HOME) ? env.HOME : homedir();
  return join(home, '.local', 'state', 'epara');
}

export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  return flag ? resolve(cwd, flag) : defaultDataDir(env);
}

/** Create the data dir (mode 0700: it holds the HTTP token and the device keys' registry). */
export function ensureDataDir(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
  } catch (cause) {
    throw new ConfigError({
      code: 'config.data_dir',
      reason: `cannot use ${dir} as the data directory (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`,
      hint: 'pass --data-dir to a directory you can write, or set EPARA_DATA_DIR',
      field: 'data-dir',
      cause,
    });
  }
  return dir;
}

const STRING_LIST = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Read and validate a config file. Unknown keys are rejected so a typo never silently does nothing. */
export function loadConfig(path: string, required: boolean): EparaConfig {
  if (!existsSync(path)) {
    if (!required) return {};
    throw new ConfigError({
      code: 'config.file',
      reason: `config file ${path} does not exist`,
      hint: 'check the --config path, or leave it out to use <data dir>/config.json',
      field: 'config',
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError({
      code: 'config.file',
      reason: `config file ${path} is not valid JSON: ${(cause as Error).message}`,
      hint: 'fix the JSON syntax (docs/cli.md §Config file shows an example)',
      field: 'config',
      cause,
    });
  }
  const bad = (key: string, want: string) =>
    new ConfigError({
      code: 'config.file',
      reason: `config file ${path}: "${key}" ${want}`,
      hint: 'see docs/cli.md §Config file for the allowed keys and their types',
      field: key,
    });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('(top level)', 'must be an object');
  const top = raw as Record<string, unknown>;
  for (const k of Object.keys(top)) if (k !== 'serve' && k !== 'server') throw bad(k, 'is not a known key');
  if (top.server !== undefined && typeof top.server !== 'string') throw bad('server', 'must be a URL string');
  if (top.serve !== undefined) {
    const s = top.serve;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw bad('serve', 'must be an object');
    const checks: Record<string, [(v: unknown) => boolean, string]> = {
      tcp: [STRING_LIST, 'must be a list of "host:port" strings'],
      serial: [STRING_LIST, 'must be a list of "path@baud" strings'],
      ble: [(v) => typeof v === 'boolean', 'must be true or false'],
      http: [(v) => typeof v === 'string', 'must be a "host:port" string'],
      metrics: [(v) => typeof v === 'boolean', 'must be true or false'],
      openEnrolment: [(v) => typeof v === 'boolean', 'must be true or false'],
      scheduler: [(v) => typeof v === 'string', `must be one of ${SCHEDULER_NAMES.join(', ')}`],
      heartbeatMs: [(v) => typeof v === 'number', 'must be a number of milliseconds'],
      stateSyncMs: [(v) => typeof v === 'number', 'must be a number of milliseconds'],
      placementMs: [(v) => typeof v === 'number', 'must be a number of milliseconds'],
      mqtt: [(v) => typeof v === 'string', 'must be a broker URL string (mqtt://host:1883)'],
      mqttPrefix: [(v) => typeof v === 'string', 'must be a topic prefix string'],
      mqttCa: [(v) => typeof v === 'string', 'must be the path of a PEM file'],
    };
    for (const [k, v] of Object.entries(s as Record<string, unknown>)) {
      const check = checks[k];
      if (!check) throw bad(`serve.${k}`, 'is not a known key');
      if (!check[0](v)) throw bad(`serve.${k}`, check[1]);
    }
  }
  return top as EparaConfig;
}

export function configPath(flag: string | undefined, dataDir: string, cwd: string): { path: string; required: boolean } {
  return flag ? { path: resolve(cwd, flag), required: true } : { path: join(dataDir, 'config.json'), required: false };
}
