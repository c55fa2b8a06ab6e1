import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { DEVICE_CLASSES } from '../protocol/constants.js';
import { CliError, usageError } from './cli-error.js';
import { normalizeServerUrl } from './server-url.js';

/**
 * Named connection profiles, as `mcumgr conn add`: a name for a server URL and the file holding
 * its token, so `--profile lab` replaces `--server … --token …` on any command. The token stays
 * in its own file (the profile stores the path, never the token), read when the profile is used.
 *
 * Stored in $XDG_CONFIG_HOME/epara/profiles.json (else ~/.config/epara/profiles.json), mode 0600:
 * profiles are configuration of the user, not state of one data dir.
 */
export interface ConnectionProfile {
  server: string;
  tokenFile: string;
}

export type Profiles = Record<string, ConnectionProfile>;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function profilesPath(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME && isAbsolute(env.HOME) ? env.HOME : homedir(), '.config');
  return join(base, 'epara', 'profiles.json');
}

/**
 * `epara fleet --profile mcu` names an emulator profile (a device class), as it always has; so a
 * connection profile may not take a device class's name, and `--profile <class>` is never one.
 */
export function isDeviceProfileName(name: string): boolean {
  return (DEVICE_CLASSES as readonly string[]).includes(name);
}

export function readProfiles(env: NodeJS.ProcessEnv): Profiles {
  const path = profilesPath(env);
  if (!existsSync(path)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new CliError({ code: 'cli.profiles_file', reason: `${path} is not valid JSON: ${(cause as Error).message}`, hint: 'fix it or remove it; `epara profile add` rewrites it', field: 'profile', cause });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CliError({ code: 'cli.profiles_file', reason: `${path} must hold an object of profiles`, hint: 'remove it and add the profiles again with `epara profile add`', field: 'profile' });
  const out: Profiles = {};
  for (const [name, p] of Object.entries(raw as Record<string, unknown>)) {
    const v = p as Partial<ConnectionProfile> | null;
    if (!v || typeof v.server !== 'string' || typeof v.tokenFile !== 'string') throw new CliError({ code: 'cli.profiles_file', reason: `${path}: profile "${name}" needs "server" and "tokenFile" strings`, hint: `add it again with \`epara profile add ${name} --server URL --token-file FILE\``, field: 'profile' });
    out[name] = { server: v.server, tokenFile: v.tokenFile };
  }
  return out;
}

function writeProfiles(env: NodeJS.ProcessEnv, profiles: Profiles): string {
  const path = profilesPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(profiles, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
  chmodSync(path, 0o600);
  return path;
}

export function validateProfileName(name: string): string {
  if (!NAME.test(name)) throw usageError('name', `profile name ${JSON.stringify(name)} must be 1..64 letters, digits, . _ - (starting with a letter or digit)`, 'e.g. lab, prod-gw1');
  if (isDeviceProfileName(name)) throw usageError('name', `profile name ${name} is a device class`, `\`epara fleet --profile ${name}\` means the emulator profile: choose another name, e.g. ${name}-gw`);
  return name;
}

/** The token a profile points at; the file must exist, be readable and hold 16+ characters. */
export function readProfileToken(name: string, p: ConnectionProfile): string {
  let t: string;
  try {
    t = readFileSync(p.tokenFile, 'utf8').trim();
  } catch (cause) {
    throw new CliError({ code: 'cli.profile_token', reason: `profile ${name}: cannot read its token file ${p.tokenFile} (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, hint: `copy the server's <data dir>/http-token there, or point the profile at it: \`epara profile add ${name} --server ${p.server} --token-file FILE --force\``, field: 'profile', cause });
  }
  if (t.length < 16) throw new CliError({ code: 'cli.profile_token', reason: `profile ${name}: ${p.tokenFile} holds no token (under 16 characters)`, hint: "copy the server's <data dir>/http-token there", field: 'profile' });
  return t;
}

export function addProfile(env: NodeJS.ProcessEnv, cwd: string, name: string, server: string, tokenFile: string, force: boolean): { path: string; profile: ConnectionProfile; warning?: string } {
  validateProfileName(name);
  const profile: ConnectionProfile = { server: normalizeServerUrl(server), tokenFile: resolve(cwd, tokenFile) };
  readProfileToken(name, profile);
  const profiles = readProfiles(env);
  if (profiles[name] && !force) throw new CliError({ code: 'cli.profile_exists', reason: `profile ${name} already exists (${profiles[name]!.server})`, hint: `add --force to replace it, or remove it first with \`epara profile rm ${name}\``, field: 'name', usage: true });
  profiles[name] = profile;
  const mode = statSync(profile.tokenFile).mode & 0o077;
  return { path: writeProfiles(env, profiles), profile, ...(mode ? { warning: `${profile.tokenFile} is readable by other users (mode ${(statSync(profile.tokenFile).mode & 0o777).toString(8)}): chmod 600 it` } : {}) };
}

export function removeProfile(env: NodeJS.ProcessEnv, name: string): void {
  const profiles = readProfiles(env);
  if (!profiles[name]) throw unknownProfile(env, name, profiles);
  delete profiles[name];
  writeProfiles(env, profiles);
}

export function unknownProfile(env: NodeJS.ProcessEnv, name: string, profiles: Profiles): CliError {
  const names = Object.keys(profiles);
  return new CliError({
    code: 'cli.unknown_profile',
    reason: `no connection profile ${name} in ${profilesPath(env)}${names.length ? ` (there are: ${names.join(', ')})` : ''}`,
    hint: `add it with \`epara profile add ${name} --server URL --token-file FILE\`; \`epara profile ls\` lists them`,
    field: 'profile',
  });
}

/** The profile `--profile` (or EPARA_PROFILE) names, or undefined; a device-class name is fleet's. */
export function selectedProfile(env: NodeJS.ProcessEnv, flag: string | undefined): { name: string; profile: ConnectionProfile } | undefined {
  const name = flag ?? env.EPARA_PROFILE;
  if (!name || isDeviceProfileName(name)) return undefined;
  const profiles = readProfiles(env);
  const profile = profiles[name];
  if (!profile) throw unknownProfile(env, name, profiles);
  return { name, profile };
}
