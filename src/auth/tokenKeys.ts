import { createPublicKey, type KeyObject } from 'node:crypto';

const EC_ALGORITHMS: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/**
 * The one JWS algorithm family a public key verifies (AUTH_PUBLIC_KEY), or why it cannot be used:
 * RSA → RS256, EC P-256/P-384/P-521 → ES256/384/512, Ed25519 → EdDSA. Anything else is refused at
 * start-up rather than starting a server that refuses every token.
 */
export function algorithmsForKey(pem: string): { key: KeyObject; algorithms: string[] } | { error: string } {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return { error: 'is not a readable PEM public key' };
  }
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return { key, algorithms: ['RS256'] };
  if (type === 'ed25519') return { key, algorithms: ['EdDSA', 'Ed25519'] };
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    const algorithm = EC_ALGORITHMS[curve];
    if (algorithm) return { key, algorithms: [algorithm] };
    return { error: `is an EC key on curve ${curve || 'unknown'}: use P-256, P-384 or P-521 (or an RSA or Ed25519 key)` };
  }
  return { error: `is a key of type ${type ?? 'unknown'}: room tokens can be verified with RSA (RS256), EC P-256/P-384/P-521 (ES256/384/512) or Ed25519 (EdDSA) keys` };
}
