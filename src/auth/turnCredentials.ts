import crypto from 'node:crypto';
import type { IceServer } from '../signaling/protocol.ts';

/**
 * Time-limited TURN credentials from a shared secret: the "TURN REST API" scheme that coturn's
 * `use-auth-secret` (and most TURN servers) check without any call back to Parley.
 *
 *   username   = "<expiry, Unix seconds>:<userId>"
 *   credential = base64(HMAC-SHA1(secret, username))
 *
 * The TURN server recomputes the credential from the username and refuses it once the expiry has
 * passed (allocations are refreshed with the same username, so a relay lives at most until then).
 */

export interface TurnSettings {
  secret: string;
  urls: readonly string[];
  ttlSeconds: number;
}

export function turnUsername(userId: string, expiresAtSeconds: number): string {
  return `${Math.floor(expiresAtSeconds)}:${userId}`;
}

export function turnCredential(secret: string, username: string): string {
  return crypto.createHmac('sha1', secret).update(username).digest('base64');
}

/** Credentials for `userId`, valid for `ttlSeconds` from `nowMs`. */
export function mintTurnCredentials(settings: TurnSettings, userId: string, nowMs: number = Date.now()): IceServer {
  const username = turnUsername(userId, Math.floor(nowMs / 1000) + settings.ttlSeconds);
  return { urls: [...settings.urls], username, credential: turnCredential(settings.secret, username) };
}

/**
 * Whether a username/credential pair is valid at `nowMs` (what the TURN server checks): the
 * credential matches and the expiry has not passed.
 */
export function checkTurnCredentials(secret: string, username: string, credential: string, nowMs: number = Date.now()): boolean {
  const expiry = Number(/^(\d+):/.exec(username)?.[1]);
  if (!Number.isFinite(expiry) || expiry * 1000 <= nowMs) return false;
  const expected = Buffer.from(turnCredential(secret, username));
  const given = Buffer.from(credential);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}
