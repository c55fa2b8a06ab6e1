/** Every check the kit runs, in report order (`epara conform --list` prints it; docs/conformance.md explains it). */
import type { CheckDef } from './check.js';
import { HANDSHAKE_CHECKS } from './checks/handshake.js';
import { AUTH_CHECKS } from './checks/auth.js';
import { VERSION_CHECKS } from './checks/version.js';
import { FRAMING_CHECKS } from './checks/framing.js';
import { acceptCheck, loadAcceptVectors, loadInvalidVectors, vectorCheck } from './checks/vectors.js';
import { PING_CHECKS } from './checks/ping.js';
import { HEARTBEAT_CHECKS } from './checks/heartbeat.js';
import { STATE_CHECKS } from './checks/state.js';
import { DEPLOY_CHECKS } from './checks/deploy.js';
import { INFER_CHECKS } from './checks/infer.js';
import { RTX_CHECKS } from './checks/rtx.js';
import { BYE_CHECKS } from './checks/bye.js';

export const FIXED_CHECKS: readonly CheckDef[] = [
  ...Object.values(HANDSHAKE_CHECKS),
  ...Object.values(VERSION_CHECKS),
  ...Object.values(AUTH_CHECKS),
  ...Object.values(FRAMING_CHECKS),
  ...Object.values(PING_CHECKS),
  ...Object.values(HEARTBEAT_CHECKS),
  ...Object.values(STATE_CHECKS),
  ...Object.values(DEPLOY_CHECKS),
  ...Object.values(INFER_CHECKS),
  ...Object.values(RTX_CHECKS),
  ...Object.values(BYE_CHECKS),
];

/** The fixed checks plus one per invalid and accept vector (read from protocol/vectors/). */
export function allChecks(): CheckDef[] {
  return [...FIXED_CHECKS, ...loadInvalidVectors().map(vectorCheck), ...loadAcceptVectors().map(acceptCheck)];
}
