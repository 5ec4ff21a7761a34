import crypto from 'node:crypto';

/**
 * The host credential a room's creator gets with the room: whoever joins with it is a host. Only its
 * hash is stored (it is random and long, so a plain hash is enough).
 */
export function mintHostKey(): string {
  return crypto.randomBytes(24).toString('base64url');
}

export function hashHostKey(hostKey: string): string {
  return crypto.createHash('sha256').update(hostKey).digest('base64url');
}
