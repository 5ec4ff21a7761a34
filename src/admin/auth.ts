import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Compares two secrets in constant time (both hashed first, so their lengths do not show either). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer[ ]+([^\s]+)\s*$/i.exec(header) : null;
  return match?.[1];
}

function cookiesOf(req: IncomingMessage): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return jar;
}

/**
 * A POST that a cookie authorises must come from our own pages. (SameSite=Strict already keeps the
 * cookie off cross-site requests; this is the second lock.) Browsers send Origin on every POST and it
 * must name this host; a plain form POST under `Referrer-Policy: no-referrer` says `Origin: null`,
 * and then the browser's own `Sec-Fetch-Site: same-origin` (which no page can forge) must vouch for
 * it. `origin` is the origin users reach us at.
 */
export function isSameOriginPost(req: IncomingMessage, origin: string): boolean {
  const given = req.headers.origin;
  if (given === 'null') return req.headers['sec-fetch-site'] === 'same-origin';
  if (!given) return false;
  try {
    return new URL(given).host === new URL(origin).host;
  } catch {
    return false;
  }
}

const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 256;
const FAILURES_PER_WINDOW = 10;
const FAILURE_WINDOW_MS = 5 * 60 * 1000;

/**
 * Who may use /admin: a script with `Authorization: Bearer <ADMIN_TOKEN>`, or a person who signed in
 * with the token and holds a session cookie. The cookie carries a random session id; the server keeps
 * only its SHA-256, so neither the token nor a usable session is ever stored. Sign-out forgets it.
 */
export class AdminAuth {
  readonly #token: string;
  /** sha256(session id) → expiry (ms). */
  readonly #sessions = new Map<string, number>();
  /** Failed sign-ins per client address: address → [count, window start]. */
  readonly #failures = new Map<string, [number, number]>();

  constructor(token: string) {
    this.#token = token;
  }

  cookieName(secure: boolean): string {
    // __Host-: the browser only accepts it over HTTPS, for this host alone, for the whole site.
    return secure ? '__Host-parley_admin' : 'parley_admin';
  }

  /** True for a valid bearer token or session cookie. */
  allows(req: IncomingMessage, secure: boolean): boolean {
    const bearer = bearerOf(req);
    if (bearer !== undefined) return secretsEqual(bearer, this.#token);
    return this.#session(req, secure) !== undefined;
  }

  /** True when the request is authorised by its cookie alone (so it needs the Origin check for POSTs). */
  viaCookie(req: IncomingMessage): boolean {
    return bearerOf(req) === undefined;
  }

  #session(req: IncomingMessage, secure: boolean): string | undefined {
    const id = cookiesOf(req).get(this.cookieName(secure));
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const key = crypto.createHash('sha256').update(id).digest('base64url');
    const expires = this.#sessions.get(key);
    if (expires === undefined) return undefined;
    if (expires < Date.now()) {
      this.#sessions.delete(key);
      return undefined;
    }
    return key;
  }

  /** Too many wrong tokens from this address lately: refuse before comparing. */
  throttled(address: string): boolean {
    const entry = this.#failures.get(address);
    if (!entry) return false;
    if (Date.now() - entry[1] > FAILURE_WINDOW_MS) {
      this.#failures.delete(address);
      return false;
    }
    return entry[0] >= FAILURES_PER_WINDOW;
  }

  /** A new session's cookie value when `given` is the token, else undefined (and the failure counted). */
  signIn(given: string, address: string): string | undefined {
    if (!secretsEqual(given, this.#token)) {
      const entry = this.#failures.get(address);
      if (entry && Date.now() - entry[1] <= FAILURE_WINDOW_MS) entry[0]++;
      else this.#failures.set(address, [1, Date.now()]);
      if (this.#failures.size > 10_000) this.#failures.delete(this.#failures.keys().next().value!);
      return undefined;
    }
    const id = crypto.randomBytes(32).toString('base64url');
    this.#sessions.set(crypto.createHash('sha256').update(id).digest('base64url'), Date.now() + SESSION_TTL_MS);
    while (this.#sessions.size > MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    return id;
  }

  signOut(req: IncomingMessage, secure: boolean): void {
    const key = this.#session(req, secure);
    if (key) this.#sessions.delete(key);
  }

  setCookie(value: string, secure: boolean): string {
    return `${this.cookieName(secure)}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${secure ? '; Secure' : ''}`;
  }

  clearCookie(secure: boolean): string {
    return `${this.cookieName(secure)}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
  }
}
