import crypto from 'node:crypto';
import { z } from 'zod';

/** Any room id a client may name: what the home page mints, and what fits in a URL path segment. */
export const roomIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'roomId must be 1-64 characters of A-Z a-z 0-9 _ -');

/**
 * Room ids the home page mints: 96 random bits, URL-safe (16 characters), unguessable and short
 * enough to read out. A password room's id carries a 4-character tag derived from the random part,
 * so the server can tell it was password-protected even after forgetting its record (a restart
 * without Redis, an expired invite): such a room is refused rather than silently left open.
 */
const RANDOM_CHARS = 16;
const TAG_CHARS = 4;

function passwordTag(random: string): string {
  return crypto.createHash('sha256').update(`parley:password-room:${random}`).digest('base64url').slice(0, TAG_CHARS);
}

export function mintRoomId(options: { password: boolean }): string {
  const random = crypto.randomBytes(12).toString('base64url');
  return options.password ? random + passwordTag(random) : random;
}

/** True when the id was minted for a password room (a chance id matches with odds of 1 in 16.7 million). */
export function isPasswordRoomId(roomId: string): boolean {
  if (roomId.length !== RANDOM_CHARS + TAG_CHARS) return false;
  return passwordTag(roomId.slice(0, RANDOM_CHARS)) === roomId.slice(RANDOM_CHARS);
}

export const FORGOTTEN_PASSWORD_ROOM = 'this room was protected by a password the server no longer knows (it restarted without Redis, or the room expired): ask for a new link';
