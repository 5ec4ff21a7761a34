import { createPublicKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify } from 'jose';

export type Role = 'host' | 'guest';

export interface RoomGrant {
  room: string;
  name: string;
  role: Role;
}

/** Verifies signed room tokens: HS256 with AUTH_SECRET, or ES256/RS256 with AUTH_PUBLIC_KEY. */
export class TokenVerifier {
  readonly #key: Uint8Array | KeyObject;
  readonly #algorithms: string[];

  constructor(options: { secret?: string; publicKeyPem?: string }) {
    if (options.publicKeyPem) {
      this.#key = createPublicKey(options.publicKeyPem);
      this.#algorithms = this.#key.asymmetricKeyType === 'ec' ? ['ES256'] : ['RS256'];
    } else if (options.secret) {
      this.#key = new TextEncoder().encode(options.secret);
      this.#algorithms = ['HS256'];
    } else {
      throw new Error('TokenVerifier needs a secret or a public key');
    }
  }

  /** The grant for `roomId`, or an error message fit for the user. */
  async verify(token: string, roomId: string): Promise<RoomGrant | { error: string }> {
    let payload;
    try {
      // Only the configured algorithm is accepted: no "none", no HS/RS swaps.
      ({ payload } = await jwtVerify(token, this.#key, { algorithms: this.#algorithms, requiredClaims: ['exp', 'room', 'name'], clockTolerance: 5 }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { error: 'room token has expired' };
      if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf') return { error: 'room token is not valid yet' };
      return { error: 'room token is invalid' };
    }
    const { room, name, role } = payload;
    if (typeof room !== 'string' || typeof name !== 'string') return { error: 'room token is invalid' };
    if (room !== roomId) return { error: 'room token is for another room' };
    return { room, name, role: role === 'host' ? 'host' : 'guest' };
  }
}
