import fs from 'node:fs';
import os from 'node:os';
import { isIP } from 'node:net';

/** Validated runtime configuration, read once from the environment at start. */
export interface Config {
  port: number;
  host: string;
  rtcPort: number;
  rtcListenIp: string;
  announcedIp: string | undefined;
  workers: number;
  redisUrl: string | undefined;
  logLevel: LogLevel;
  /** Grace period before an empty room is closed (ms). */
  emptyRoomGraceMs: number;
  /** PEM certificate and key: serve HTTPS directly. */
  tls: { cert: string; key: string } | undefined;
  /** Honour X-Forwarded-Proto/Host (set when behind a reverse proxy). */
  trustProxy: boolean;
  /** Origins besides the page's own allowed to open a signaling socket. */
  allowedOrigins: string[];
  /** HMAC secret for signed room tokens (HS256); unset: tokens are not required. */
  authSecret: string | undefined;
  /** PEM public key (ES256 or RS256) for signed room tokens, instead of a shared secret. */
  authPublicKey: string | undefined;
  rateLimits: { joinsPerMinute: number; connectionsPerMinute: number; requestsPer5s: number; roomsPerMinute: number; probesPerMinute: number };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

/** Parses and validates the environment; collects every problem before failing. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const port = (name: string, fallback: number, min = 1): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > 65535) {
      problems.push(`${name}=${JSON.stringify(raw)} must be a port number between ${min} and 65535`);
      return fallback;
    }
    return n;
  };
  const ip = (name: string, fallback: string | undefined): string | undefined => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (isIP(raw) === 0) {
      problems.push(`${name}=${JSON.stringify(raw)} must be an IPv4 or IPv6 address (e.g. 203.0.113.7)`);
      return fallback;
    }
    return raw;
  };

  const httpPort = port('PORT', 3000, 0); // 0: any free port
  const rtcPort = port('RTC_PORT', 40000);
  const host = read('HOST') ?? '0.0.0.0';
  const rtcListenIp = ip('RTC_LISTEN_IP', '0.0.0.0') ?? '0.0.0.0';
  const announcedIp = ip('ANNOUNCED_IP', undefined);

  let workers = os.availableParallelism();
  const rawWorkers = read('WORKERS');
  if (rawWorkers !== undefined) {
    const n = Number(rawWorkers);
    if (!/^\d+$/.test(rawWorkers) || n < 1 || n > 256) {
      problems.push(`WORKERS=${JSON.stringify(rawWorkers)} must be a whole number between 1 and 256`);
    } else {
      workers = n;
    }
  }
  if (rtcPort + workers - 1 > 65535) {
    problems.push(`RTC_PORT=${rtcPort} with WORKERS=${workers} would need ports above 65535`);
  }

  const redisUrl = read('REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) {
    problems.push(`REDIS_URL=${JSON.stringify(redisUrl)} must look like redis://host:6379 or rediss://…`);
  }

  const rawLevel = read('LOG_LEVEL') ?? 'info';
  const logLevel = (LOG_LEVELS as readonly string[]).includes(rawLevel) ? (rawLevel as LogLevel) : 'info';
  if (logLevel !== rawLevel) {
    problems.push(`LOG_LEVEL=${JSON.stringify(rawLevel)} must be one of ${LOG_LEVELS.join(', ')}`);
  }

  let emptyRoomGraceMs = 10_000;
  const rawGrace = read('EMPTY_ROOM_GRACE_MS');
  if (rawGrace !== undefined) {
    if (!/^\d+$/.test(rawGrace)) problems.push(`EMPTY_ROOM_GRACE_MS=${JSON.stringify(rawGrace)} must be a whole number of milliseconds`);
    else emptyRoomGraceMs = Number(rawGrace);
  }

  const tlsCert = read('TLS_CERT');
  const tlsKey = read('TLS_KEY');
  let tls: Config['tls'];
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    problems.push('TLS_CERT and TLS_KEY must be set together (paths to the PEM certificate chain and private key)');
  } else if (tlsCert && tlsKey) {
    for (const [name, file] of [['TLS_CERT', tlsCert], ['TLS_KEY', tlsKey]] as const) {
      if (!fs.existsSync(file)) problems.push(`${name}=${JSON.stringify(file)}: no such file`);
    }
    tls = { cert: tlsCert, key: tlsKey };
  }

  const rawTrust = read('TRUST_PROXY') ?? 'false';
  if (!/^(true|false|1|0|yes|no)$/i.test(rawTrust)) problems.push(`TRUST_PROXY=${JSON.stringify(rawTrust)} must be true or false`);
  const trustProxy = /^(true|1|yes)$/i.test(rawTrust);

  const allowedOrigins = (read('ALLOWED_ORIGINS') ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of allowedOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) problems.push(`ALLOWED_ORIGINS entry ${JSON.stringify(origin)} must look like https://example.com (scheme and host, no path)`);
  }

  const authSecret = read('AUTH_SECRET');
  if (authSecret !== undefined && authSecret.length < 32) problems.push('AUTH_SECRET must be at least 32 characters long');

  let authPublicKey: string | undefined;
  const publicKeyFile = read('AUTH_PUBLIC_KEY');
  if (publicKeyFile !== undefined) {
    try {
      authPublicKey = fs.readFileSync(publicKeyFile, 'utf8');
      if (!authPublicKey.includes('BEGIN PUBLIC KEY')) problems.push(`AUTH_PUBLIC_KEY=${JSON.stringify(publicKeyFile)} must be a PEM public key file (-----BEGIN PUBLIC KEY-----)`);
    } catch {
      problems.push(`AUTH_PUBLIC_KEY=${JSON.stringify(publicKeyFile)}: cannot read the file`);
    }
  }

  const count = (name: string, fallback: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) {
      problems.push(`${name}=${JSON.stringify(raw)} must be a whole number (0 turns the limit off)`);
      return fallback;
    }
    return Number(raw);
  };
  const rateLimits = {
    joinsPerMinute: count('RATE_JOINS_PER_MINUTE', 30),
    connectionsPerMinute: count('RATE_CONNECTIONS_PER_MINUTE', 60),
    requestsPer5s: count('RATE_REQUESTS_PER_5S', 100),
    roomsPerMinute: count('RATE_ROOMS_PER_MINUTE', 20),
    probesPerMinute: count('RATE_PROBES_PER_MINUTE', 10),
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return { port: httpPort, host, rtcPort, rtcListenIp, announcedIp, workers, redisUrl, logLevel, emptyRoomGraceMs, tls, trustProxy, allowedOrigins, authSecret, authPublicKey, rateLimits };
}
