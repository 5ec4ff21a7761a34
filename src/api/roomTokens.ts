import crypto from 'node:crypto';
import { SignJWT } from 'jose';

/** A seat's user id, as the server takes it from a token's `sub`. */
export const SUBJECT = /^[A-Za-z0-9_-]{1,64}$/;

export interface RoomTokenClaims {
  room: string;
  name: string;
  role: 'host' | 'guest';
  /** The seat's user id; a fresh random one when left out. */
  sub?: string;
}

/** `90`, `90s`, `45m`, `2h`, `7d` → seconds; undefined for anything else. */
export function parseTtl(text: string): number | undefined {
  const match = /^(\d{1,7})\s*(s|m|h|d)?$/.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return seconds > 0 ? seconds : undefined;
}

export function randomSubject(prefix = 'u'): string {
  return `${prefix}-${crypto.randomBytes(9).toString('base64url')}`;
}

/**
 * A room token as the server verifies it (src/auth/tokens.ts): HS256 with AUTH_SECRET, claims room,
 * name, role and sub, issued now, expiring after `ttlSeconds`; `aud`/`iss` when the server checks them.
 */
export async function signRoomToken(secret: string, claims: RoomTokenClaims, ttlSeconds: number, options: { audience?: string; issuer?: string } = {}): Promise<string> {
  const sub = claims.sub ?? randomSubject(claims.role === 'host' ? 'host' : 'u');
  if (!SUBJECT.test(sub)) throw new Error('sub must be 1-64 characters of A-Z a-z 0-9 _ -');
  let jwt = new SignJWT({ room: claims.room, name: claims.name, role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  return jwt.sign(new TextEncoder().encode(secret));
}
