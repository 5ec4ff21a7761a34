/**
 * Who is on the other end of a request, for HTTP and signaling alike: the client's address (the
 * right-most address no trusted proxy vouches for), whether it is the machine itself (exempt from
 * per-address limits only when a test opts in), whether a browser page may open a socket, and the
 * origin users reach us at. Also the one place that notices a proxy set-up that does not match
 * TRUST_PROXY, and says so in the log, once.
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import proxyAddr from 'proxy-addr';
import type { TrustProxy } from '../config.ts';
import type { Logger } from '../log.ts';
import { isLoopback, withoutPort } from './clientAddress.ts';
import { proxyInfo } from './proxyProtocol.ts';

export const WARN_HEADERS_UNTRUSTED =
  'Requests carry X-Forwarded-For/Forwarded headers but TRUST_PROXY is not set, so every client behind that proxy shares its address and its rate limits. Behind a reverse proxy set TRUST_PROXY (true, a hop count, or the proxy addresses); if Parley is reachable directly, a client wrote these headers itself and they are ignored.';
export const WARN_HEADERS_MISSING =
  'TRUST_PROXY is set but a request from the proxy came without X-Forwarded-For, so it is counted against the proxy\'s own address (all such clients share one budget). Make the proxy add X-Forwarded-For (a TCP proxy: send the PROXY protocol and set PROXY_PROTOCOL=true), or unset TRUST_PROXY if Parley is reachable directly.';

export interface Client {
  /** The client's address: the PROXY protocol source, or the right-most untrusted X-Forwarded-For hop, or the peer. */
  ip: string;
  /** The machine itself, which per-address limits skip: only with the test-only `exemptLoopback`. */
  exempt: boolean;
}

/** Paths a proxy's own health checks hit: they tell nothing about how clients are forwarded. */
const QUIET_PATHS = /^\/(healthz|readyz|metrics)(\?|$)/;

export class ClientResolver {
  readonly #trust: ((address: string, hop: number) => boolean) | undefined;
  readonly #log: Logger;
  readonly #exemptLoopback: boolean;
  readonly #warned = new Set<string>();
  readonly #proxyProtocol: boolean;

  constructor(options: { trustProxy: TrustProxy; proxyProtocol: boolean; exemptLoopback: boolean; log: Logger }) {
    this.#proxyProtocol = options.proxyProtocol;
    const { trustProxy } = options;
    this.#trust = trustProxy === false ? undefined : typeof trustProxy === 'number' ? (_address, hop) => hop < trustProxy : proxyAddr.compile([...trustProxy]);
    this.#log = options.log;
    this.#exemptLoopback = options.exemptLoopback;
  }

  /** Is this peer (a socket's remote address) one of our proxies? */
  isTrustedPeer(address: string | undefined): boolean {
    return address !== undefined && !!this.#trust?.(address, 0);
  }

  resolve(req: IncomingMessage): Client {
    this.#watch(req);
    const viaProxyProtocol = proxyInfo(req.socket)?.source;
    if (viaProxyProtocol) return { ip: viaProxyProtocol, exempt: false };
    const peer = req.socket.remoteAddress ?? 'unknown';
    const forwarded = hasForwardingHeaders(req);
    const exempt = this.#exemptLoopback && !this.#trust && isLoopback(peer) && !forwarded;
    if (!this.#trust || !this.isTrustedPeer(peer)) return { ip: peer, exempt };
    // proxy-addr walks from the peer leftwards through X-Forwarded-For while each hop is trusted.
    const hops = forwardedFor(req);
    const chain = proxyAddr.all({ headers: { 'x-forwarded-for': hops.join(', ') }, socket: { remoteAddress: peer } } as unknown as IncomingMessage, this.#trust);
    // A hop that is not an address (garbage, "unknown") must not be a fresh budget: the proxy that wrote it answers for it.
    const valid = chain.filter((address) => net.isIP(address) !== 0);
    return { ip: valid.at(-1) ?? peer, exempt: false };
  }

  /** X-Forwarded-Proto/Host count only on requests that came straight from a trusted proxy. */
  #forwardedHeader(req: IncomingMessage, name: string): string | undefined {
    if (proxyInfo(req.socket) || !this.isTrustedPeer(req.socket.remoteAddress)) return undefined;
    return firstHeader(req.headers[name]);
  }

  /** Browsers send Origin; it must match the Host the page came from, or be allow-listed. */
  isSameOriginOrAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
    const origin = req.headers.origin;
    if (!origin) return true; // not a browser (bots, tests, server-side clients)
    if (allowed.has(origin)) return true;
    const forwardedHost = this.#forwardedHeader(req, 'x-forwarded-host');
    try {
      const host = new URL(origin).host;
      return host === req.headers.host || (forwardedHost !== undefined && host === forwardedHost);
    } catch {
      return false;
    }
  }

  /** The origin users reach us at (for invite links). */
  publicOrigin(req: IncomingMessage, tls: unknown): string {
    const proto = this.#forwardedHeader(req, 'x-forwarded-proto') ?? (tls || proxyInfo(req.socket)?.tls ? 'https' : 'http');
    const host = this.#forwardedHeader(req, 'x-forwarded-host') ?? req.headers.host ?? 'localhost';
    return `${proto === 'https' ? 'https' : 'http'}://${host}`;
  }

  /** Warns once when forwarding headers and TRUST_PROXY disagree. */
  #watch(req: IncomingMessage): void {
    if (QUIET_PATHS.test(req.url ?? '')) return;
    const forwarded = hasForwardingHeaders(req);
    if (forwarded && !this.#trust) this.#warnOnce(WARN_HEADERS_UNTRUSTED);
    else if (!forwarded && this.isTrustedPeer(req.socket.remoteAddress) && !this.#proxyProtocol) this.#warnOnce(WARN_HEADERS_MISSING);
  }

  #warnOnce(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.#log.warn(message);
  }
}

function hasForwardingHeaders(req: IncomingMessage): boolean {
  return req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
}

/** X-Forwarded-For entries, left to right, without ports. */
function forwardedFor(req: IncomingMessage): string[] {
  const header = req.headers['x-forwarded-for'];
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text.split(',').map((entry) => withoutPort(entry.trim())).filter(Boolean);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.split(',')[0]?.trim() || undefined;
}
