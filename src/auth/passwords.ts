import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { Semaphore } from '../shared/semaphore.ts';
import { TIMEOUTS } from '../timeouts.ts';

const scrypt = promisify(crypto.scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const KEY_LENGTH = 32;

/**
 * scrypt runs on libuv's thread pool (4 threads), which file reads share: a flood of password
 * guesses must not starve them. At most 2 hashes run at once; a few more wait briefly, the rest are
 * refused (PasswordBusyError) at once.
 */
export const passwordWork = new Semaphore({ max: 2, maxQueue: 16, maxWaitMs: TIMEOUTS.passwordQueueMs });

/** Every password-hashing slot is taken: the caller answers "busy, retry" (rate_limited / 503). */
export class PasswordBusyError extends Error {
  constructor() {
    super('the server is busy checking passwords: try again in a moment');
    this.name = 'PasswordBusyError';
  }
}

async function hashWithSlot(password: string, salt: Buffer, length: number): Promise<Buffer> {
  const release = await passwordWork.acquire();
  if (!release) throw new PasswordBusyError();
  try {
    return await scrypt(password.normalize('NFC'), salt, length);
  } finally {
    release();
  }
}

/** "scrypt$<salt>$<hash>", base64url; the password itself is never stored. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await hashWithSlot(password, salt, KEY_LENGTH);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await hashWithSlot(password, Buffer.from(salt, 'base64url'), expected.length);
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}
