import { isIP } from 'node:net';
import os from 'node:os';

/**
 * coturn's configuration file (turnserver.conf), made from Parley's own settings at start. Pure, so
 * the rules that keep the relay from being an open relay are unit-tested (test/server/turn.test.ts):
 *
 * - credentials: only the time-limited ones Parley mints from TURN_SECRET (`use-auth-secret`);
 * - peers: every address is denied, then Parley's own media addresses are allowed again, so a relay
 *   only ever reaches Parley's media ports' host (no TCP relays at all, no multicast);
 * - limits: allocations per username and in all, bytes per second per allocation.
 */
export interface CoturnOptions {
  secret: string;
  /** UDP and TCP; TLS on the same port too when `tls` is given (coturn tells TLS from plain TCP itself). */
  port: number;
  tls: { cert: string; key: string } | undefined;
  /** The local address relayed packets leave from (and Parley's media server answers to). */
  relayIp: string;
  /** Parley's own media addresses: the only peers the relay may send to. */
  allowedPeers: readonly string[];
  quotas: { user: number; total: number; maxBps: number };
  /** Where coturn may keep its pid file and (unused) user database: a private directory. */
  stateDir: string;
  realm?: string;
}

const IPV4_ALL = '0.0.0.0-255.255.255.255';
const IPV6_ALL = '::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';

const isLoopback = (address: string) => address.startsWith('127.') || address === '::1';

/** Addresses Parley announces or listens on, without duplicates or wildcards. */
export function mediaAddresses(...addresses: (string | undefined)[]): string[] {
  return [...new Set(addresses.filter((a): a is string => !!a && isIP(a) !== 0 && a !== '0.0.0.0' && a !== '::'))];
}

/**
 * The address coturn relays from: the configured one, else RTC_LISTEN_IP when it is specific, else
 * the first non-internal IPv4 interface address (the media server then sees relayed packets come
 * from a real address of this machine), else loopback.
 */
export function chooseRelayIp(configured: string | undefined, rtcListenIp: string, interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces()): string {
  if (configured) return configured;
  if (rtcListenIp !== '0.0.0.0' && rtcListenIp !== '::') return rtcListenIp;
  const first = Object.values(interfaces)
    .flat()
    .find((info): info is os.NetworkInterfaceInfo => !!info && info.family === 'IPv4' && !info.internal);
  return first?.address ?? '127.0.0.1';
}

/** Browser-facing URLs when TURN_URLS is not given: the announced address on TURN_PORT, UDP and TCP. */
export function defaultTurnUrls(announcedAddress: string, port: number): string[] {
  const host = announcedAddress.includes(':') ? `[${announcedAddress}]` : announcedAddress;
  return [`turn:${host}:${port}?transport=udp`, `turn:${host}:${port}?transport=tcp`];
}

export function coturnConfig(options: CoturnOptions): string {
  const { secret, port, tls, relayIp, allowedPeers, quotas, stateDir } = options;
  if (allowedPeers.length === 0) throw new Error('coturn needs at least one allowed peer address (Parley\'s media address)');
  for (const value of [secret, tls?.cert ?? '', tls?.key ?? '', stateDir]) {
    if (/[\r\n]/.test(value)) throw new Error('coturn settings cannot contain line breaks');
  }
  const lines = [
    '# Made by Parley at start (src/turn/coturnConfig.ts): change the TURN_* variables, not this file.',
    `listening-port=${port}`,
    // TLS is detected on the plain port as well; the TLS port is the same number (one port for all).
    `tls-listening-port=${port}`,
    `relay-ip=${relayIp}`,
    `realm=${options.realm ?? 'parley'}`,
    'fingerprint',
    // Only credentials minted from the shared secret (username "<expiry>:<userId>", HMAC-SHA1).
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    // Not an open relay: no TCP relays, no multicast, every peer address denied but Parley's own.
    'no-tcp-relay',
    'no-multicast-peers',
    `denied-peer-ip=${IPV4_ALL}`,
    `denied-peer-ip=${IPV6_ALL}`,
    ...allowedPeers.map((address) => `allowed-peer-ip=${address}`),
    // Loopback peers are refused unless asked for: only when Parley's own media address is one.
    ...(allowedPeers.some(isLoopback) ? ['allow-loopback-peers'] : []),
    `user-quota=${quotas.user}`,
    `total-quota=${quotas.total}`,
    `max-bps=${quotas.maxBps}`,
    ...(tls ? [`cert=${tls.cert}`, `pkey=${tls.key}`, 'no-tlsv1', 'no-tlsv1_1'] : ['no-tls', 'no-dtls']),
    'no-cli',
    'no-software-attribute',
    'no-rfc5780',
    'no-stun-backward-compatibility',
    'stale-nonce=600',
    `pidfile=${stateDir}/turnserver.pid`,
    `userdb=${stateDir}/turndb`,
    'log-file=stdout',
    'simple-log',
    'no-stdout-log',
  ];
  return `${lines.join('\n')}\n`;
}
