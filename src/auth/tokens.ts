import type { KeyObject } from 'node:crypto';
import { errors, jwtVerify, type JWTVerifyOptions } from 'jose';
import { checkName } from '../shared/names.ts';
import { UserError } from '../signaling/errors.ts';
import { algorithmsForKey } from './tokenKeys.ts';

export type Role = 'host' | 'guest';

/** A token's `sub` becomes the seat's userId, so it follows the userId rule. */
const SUBJECT = /^[A-Za-z0-9_-]{1,64}$/;
const CLOCK_TOLERANCE_SECONDS = 5;

export interface RoomGrant {
  room: string;
  name: string;
  role: Role;
  /** The person the token was issued to: the seat's userId (one token, one seat). */
  sub: string;
}

export interface TokenOptions {
  secret?: string;
  publicKeyPem?: string;
  /** When set, `aud` must contain it / `iss` must equal it. */
  audience?: string;
  issuer?: string;
  /** Longest lifetime a token may claim (exp - iat, or exp - now without iat), seconds; 0: no cap. */
  maxAgeSeconds?: number;
}

/**
 * Verifies signed room tokens: HS256 with AUTH_SECRET, or with AUTH_PUBLIC_KEY the algorithm its key
 * type verifies (RS256, ES256/384/512, EdDSA). Only that algorithm is accepted: no "none", no swaps.
 */
export class TokenVerifier {
  readonly #key: Uint8Array | KeyObject;
  readonly #options: JWTVerifyOptions;
  readonly #maxAgeSeconds: number;

  constructor(options: TokenOptions) {
    let algorithms: string[];
    if (options.publicKeyPem) {
      const found = algorithmsForKey(options.publicKeyPem);
      if ('error' in found) throw new Error(`AUTH_PUBLIC_KEY ${found.error}`);
      ({ key: this.#key, algorithms } = found);
    } else if (options.secret) {
      this.#key = new TextEncoder().encode(options.secret);
      algorithms = ['HS256'];
    } else {
      throw new Error('TokenVerifier needs a secret or a public key');
    }
    this.#options = {
      algorithms,
      requiredClaims: ['exp', 'sub', 'room', 'name'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      ...(options.audience ? { audience: options.audience } : {}),
      ...(options.issuer ? { issuer: options.issuer } : {}),
    };
    this.#maxAgeSeconds = options.maxAgeSeconds ?? 0;
  }

  /**
   * The grant for `roomId`, with its display name checked like a typed one; a refusal is a UserError
   * (token_expired, or token_invalid for anything else: bad signature, not valid yet, another room,
   * another audience or issuer, a lifetime over AUTH_MAX_TOKEN_AGE, a bad sub).
   */
  async verify(token: string, roomId: string): Promise<RoomGrant> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, this.#options));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new UserError('token_expired', 'room token has expired');
      if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf') throw new UserError('token_invalid', 'room token is not valid yet');
      if (error instanceof errors.JWTClaimValidationFailed && (error.claim === 'aud' || error.claim === 'iss')) throw new UserError('token_invalid', `room token is for another ${error.claim === 'aud' ? 'audience' : 'issuer'}`);
      throw new UserError('token_invalid', 'room token is invalid');
    }
    const { room, name, role, sub, exp, iat } = payload;
    if (typeof room !== 'string' || typeof name !== 'string' || typeof exp !== 'number') throw new UserError('token_invalid', 'room token is invalid');
    if (typeof sub !== 'string' || !SUBJECT.test(sub)) throw new UserError('token_invalid', 'room token has an invalid sub (1-64 characters of A-Z a-z 0-9 _ -)');
    if (room !== roomId) throw new UserError('token_invalid', 'room token is for another room');
    if (this.#maxAgeSeconds > 0) {
      // Counted from iat, or from now when iat is missing or in the future (a future iat must not stretch it).
      const now = Math.floor(Date.now() / 1000);
      const from = typeof iat === 'number' ? Math.min(iat, now) : now;
      if (exp - from > this.#maxAgeSeconds + CLOCK_TOLERANCE_SECONDS) throw new UserError('token_invalid', 'room token lives longer than this server allows (AUTH_MAX_TOKEN_AGE)');
    }
    const checked = checkName(name);
    if (!checked.ok) throw new UserError('token_invalid', 'room token has an invalid name');
    return { room, name: checked.name, role: role === 'host' ? 'host' : 'guest', sub };
  }
}
