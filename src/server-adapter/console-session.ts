import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The browser console's session cookie (issue 20 §2). The console logs in once with the API token
 * (POST /session) and the server answers with a cookie that is HttpOnly (no script reads it) and
 * SameSite=Strict (no other site's page sends it), so the token itself is never written into a
 * URL, local storage or the cookie. The value is `v1.<expiry>.<HMAC-SHA256(token, expiry)>`:
 * derived from the token, so it stays valid across a server restart with the same token (the
 * event stream resumes without a new login) and every session ends when the token changes.
 */
export const SESSION_COOKIE = 'epara_session';
/** How long a console login lasts. */
export const SESSION_TTL_MS = 12 * 3600_000;

function mac(token: string, expiry: string): Buffer {
  return createHmac('sha256', token).update(`epara-console-session:${expiry}`).digest();
}

export function sessionCookieValue(token: string, now = Date.now()): string {
  const expiry = (now + SESSION_TTL_MS).toString(36);
  return `v1.${expiry}.${mac(token, expiry).toString('base64url')}`;
}

export function setCookieHeader(value: string): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}`;
}

export const CLEAR_COOKIE = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;

/** The session value from a Cookie header, if any. */
export function sessionFromCookieHeader(header: string | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE) return v.join('=');
  }
  return undefined;
}

/** True when the value was made from this token and has not expired. */
export function validSession(token: string, value: string | undefined, now = Date.now()): boolean {
  if (!value || value.length > 200) return false;
  const m = /^v1\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return false;
  const expiry = m[1]!;
  if (parseInt(expiry, 36) <= now) return false;
  const given = Buffer.from(m[2]!, 'base64url');
  const want = mac(token, expiry);
  return given.length === want.length && timingSafeEqual(given, want);
}
