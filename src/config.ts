import fs from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { count, flag, ip, optional, parseDuration, parseTrustProxy, port, publicKeyFile, text, variable, within, wholeNumber, type TrustProxy } from './configVars.ts';

export type { TrustProxy } from './configVars.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** `auto`: human-readable lines when stdout is a terminal, JSON lines otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

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
  logFormat: LogFormat;
  /** Grace period before an empty room is closed (ms). */
  emptyRoomGraceMs: number;
  /** PEM certificate and key: serve HTTPS directly. */
  tls: { cert: string; key: string } | undefined;
  /** Reverse proxies whose X-Forwarded-For/Proto/Host count: none, a hop count, or their addresses. */
  trustProxy: TrustProxy;
  /** Connections from trusted proxies start with a PROXY protocol (v1/v2) header. */
  proxyProtocol: boolean;
  /** Origins besides the page's own allowed to open a signaling socket. */
  allowedOrigins: string[];
  /** HMAC secret for signed room tokens (HS256); unset: tokens are not required. */
  authSecret: string | undefined;
  /** PEM public key (RSA, EC or Ed25519) for signed room tokens, instead of a shared secret. */
  authPublicKey: string | undefined;
  /** When set, a token's `aud` / `iss` must match. */
  authAudience: string | undefined;
  authIssuer: string | undefined;
  /** Longest lifetime a token may have (exp - iat), in seconds; 0: no cap. */
  authMaxTokenAgeSeconds: number;
  /** Caps on what one room and one client address hold at once (0: no cap, for the per-address ones). */
  caps: { participantsPerRoom: number; socketsPerAddress: number; seatsPerAddress: number };
  /** /metrics: its own listener (port undefined: none) and/or a bearer token for the main port. */
  metrics: { port: number | undefined; host: string; token: string | undefined };
  rateLimits: { joinsPerMinute: number; connectionsPerMinute: number; requestsPer5s: number; roomsPerMinute: number; probesPerMinute: number };
  /** Operators and integrators: /admin (ADMIN_TOKEN), /api (API_KEY), webhooks; each is off while unset. */
  adminToken: string | undefined;
  apiKey: string | undefined;
  webhook: { url: string; secret: string } | undefined;
  /** This server's name in logs: NODE_ID, else the host name. */
  nodeId: string;
  /** TURN relay (TURN_SECRET): credentials for browsers, and coturn when Parley runs it; undefined: off. */
  turn: TurnConfig | undefined;
}

/** TURN_*: the relay for networks that let only TCP/TLS on port 443 out (README "Connect from anywhere"). */
export interface TurnConfig {
  secret: string;
  /** turn:/turns: URLs handed to browsers; undefined: made from the announced address and TURN_PORT. */
  urls: string[] | undefined;
  /** How long minted credentials stay valid (renewed on every join and ICE restart). */
  ttlSeconds: number;
  /** `coturn`: Parley starts coturn itself; `external`: a TURN server of your own checks the same secret. */
  server: 'coturn' | 'external';
  /** coturn's port: UDP and TCP, and TLS on the same port when a certificate is given. */
  port: number;
  tls: { cert: string; key: string } | undefined;
  /** The local address coturn relays from; undefined: RTC_LISTEN_IP when specific, else the first interface address. */
  relayIp: string | undefined;
  /** Allocations one username may hold, all users together, and bytes per second per allocation (0: no cap). */
  quotas: { user: number; total: number; maxBps: number };
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

/** A TURN server URL as RTCIceServer.urls takes it: turn: or turns:, a host, an optional port and transport. */
export function isTurnUrl(url: string): boolean {
  return /^turns?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?(\?transport=(udp|tcp))?$/.test(url);
}

/** A shared secret (ADMIN_TOKEN, API_KEY, WEBHOOK_SECRET): at least 16 characters, never echoed into a message. */
const secret = (name: string) =>
  text.transform((raw, ctx) => {
    if (raw !== undefined && raw.length < 16) ctx.addIssue({ code: 'custom', message: `${name} must be at least 16 characters long (e.g. openssl rand -hex 24)`, continue: true });
    return raw;
  });

const envSchema = z
  .object({
    PORT: port('PORT', 3000, 0), // 0: any free port
    HOST: text.transform((raw) => raw ?? '0.0.0.0'),
    RTC_PORT: port('RTC_PORT', 40000),
    RTC_LISTEN_IP: ip('RTC_LISTEN_IP', '0.0.0.0'),
    ANNOUNCED_IP: ip('ANNOUNCED_IP', undefined),
    WORKERS: variable('WORKERS', os.availableParallelism(), 'must be a whole number between 1 and 256', within(1, 256)),
    REDIS_URL: variable<string | undefined>('REDIS_URL', undefined, 'must look like redis://host:6379 or rediss://…', (raw) => (/^rediss?:\/\/[^\s]+$/.test(raw) ? raw : undefined)),
    LOG_LEVEL: variable<LogLevel>('LOG_LEVEL', 'info', `must be one of ${LOG_LEVELS.join(', ')}`, (raw) => LOG_LEVELS.find((level) => level === raw)),
    LOG_FORMAT: variable<LogFormat>('LOG_FORMAT', 'auto', `must be one of ${LOG_FORMATS.join(', ')}`, (raw) => LOG_FORMATS.find((format) => format === raw)),
    EMPTY_ROOM_GRACE_MS: variable('EMPTY_ROOM_GRACE_MS', 10_000, 'must be a whole number of milliseconds', wholeNumber),
    TLS_CERT: optional,
    TLS_KEY: optional,
    TRUST_PROXY: variable<TrustProxy>('TRUST_PROXY', false, 'must be false, true (one proxy), a hop count (1-10) or a comma-separated list of proxy addresses/CIDR ranges (e.g. 10.0.0.0/8,::1)', parseTrustProxy),
    PROXY_PROTOCOL: flag('PROXY_PROTOCOL'),
    ALLOWED_ORIGINS: text.transform((raw, ctx) => {
      const origins = (raw ?? '').split(',').map((o) => o.trim()).filter(Boolean);
      for (const origin of origins.filter((o) => !/^https?:\/\/[^/\s]+$/.test(o))) {
        ctx.addIssue({ code: 'custom', message: `ALLOWED_ORIGINS entry ${JSON.stringify(origin)} must look like https://example.com (scheme and host, no path)`, continue: true });
      }
      return origins;
    }),
    // The secret itself is never echoed into a message.
    AUTH_SECRET: text.transform((raw, ctx) => {
      if (raw !== undefined && raw.length < 32) ctx.addIssue({ code: 'custom', message: 'AUTH_SECRET must be at least 32 characters long', continue: true });
      return raw;
    }),
    AUTH_PUBLIC_KEY: publicKeyFile,
    AUTH_AUDIENCE: optional,
    AUTH_ISSUER: optional,
    AUTH_MAX_TOKEN_AGE: variable('AUTH_MAX_TOKEN_AGE', 24 * 3600, 'must be a duration like 3600, 90m, 2h or 1d (0: no cap)', parseDuration),
    MAX_PARTICIPANTS: variable('MAX_PARTICIPANTS', 100, 'must be a whole number between 1 and 10000', within(1, 10_000)),
    MAX_SOCKETS_PER_ADDRESS: count('MAX_SOCKETS_PER_ADDRESS', 40),
    MAX_SEATS_PER_ADDRESS: count('MAX_SEATS_PER_ADDRESS', 20),
    METRICS_PORT: variable<number | undefined>('METRICS_PORT', undefined, 'must be a port number between 0 and 65535', within(0, 65535)),
    METRICS_HOST: ip('METRICS_HOST', '127.0.0.1'),
    METRICS_TOKEN: text.transform((raw, ctx) => {
      if (raw !== undefined && raw.length < 16) ctx.addIssue({ code: 'custom', message: 'METRICS_TOKEN must be at least 16 characters long', continue: true });
      return raw;
    }),
    RATE_JOINS_PER_MINUTE: count('RATE_JOINS_PER_MINUTE', 30),
    RATE_CONNECTIONS_PER_MINUTE: count('RATE_CONNECTIONS_PER_MINUTE', 60),
    RATE_REQUESTS_PER_5S: count('RATE_REQUESTS_PER_5S', 300),
    RATE_ROOMS_PER_MINUTE: count('RATE_ROOMS_PER_MINUTE', 20),
    RATE_PROBES_PER_MINUTE: count('RATE_PROBES_PER_MINUTE', 10),
    ADMIN_TOKEN: secret('ADMIN_TOKEN'),
    API_KEY: secret('API_KEY'),
    WEBHOOK_URL: variable<string | undefined>('WEBHOOK_URL', undefined, 'must be an http:// or https:// URL', (raw) => (/^https?:\/\/[^\s]+$/.test(raw) && URL.canParse(raw) ? raw : undefined)),
    WEBHOOK_SECRET: secret('WEBHOOK_SECRET'),
    NODE_ID: text.transform((raw) => raw ?? os.hostname()),
    TURN_SECRET: secret('TURN_SECRET'),
    TURN_URLS: text.transform((raw, ctx) => {
      if (raw === undefined) return undefined;
      const urls = raw.split(',').map((u) => u.trim()).filter(Boolean);
      for (const url of urls.filter((u) => !isTurnUrl(u))) {
        ctx.addIssue({ code: 'custom', message: `TURN_URLS entry ${JSON.stringify(url)} must look like turn:203.0.113.7:443?transport=tcp or turns:turn.example.com:443?transport=tcp`, continue: true });
      }
      return urls.length > 0 ? urls : undefined;
    }),
    TURN_TTL_SECONDS: variable('TURN_TTL_SECONDS', 12 * 3600, 'must be a whole number of seconds between 300 and 604800 (7 days)', within(300, 604_800)),
    TURN_SERVER: variable<'coturn' | 'external'>('TURN_SERVER', 'coturn', 'must be coturn (Parley starts coturn) or external (your own TURN server with the same secret)', (raw) =>
      raw === 'coturn' || raw === 'external' ? raw : undefined,
    ),
    TURN_PORT: port('TURN_PORT', 3478),
    TURN_TLS_CERT: optional,
    TURN_TLS_KEY: optional,
    TURN_RELAY_IP: ip('TURN_RELAY_IP', undefined),
    TURN_USER_QUOTA: count('TURN_USER_QUOTA', 12),
    TURN_TOTAL_QUOTA: count('TURN_TOTAL_QUOTA', 1200),
    TURN_MAX_BPS: count('TURN_MAX_BPS', 1_250_000),
  })
  // Rules across variables; they run even when single variables failed, so every problem is reported.
  .superRefine(
    (env, ctx) => {
      if ((env.WEBHOOK_URL === undefined) !== (env.WEBHOOK_SECRET === undefined)) ctx.addIssue({ code: 'custom', message: 'WEBHOOK_URL and WEBHOOK_SECRET must be set together (the receiver checks each delivery\'s signature with the secret)' });
      if (env.RTC_PORT + env.WORKERS - 1 > 65535) ctx.addIssue({ code: 'custom', message: `RTC_PORT=${env.RTC_PORT} with WORKERS=${env.WORKERS} would need ports above 65535` });
      if (env.PROXY_PROTOCOL && env.TRUST_PROXY === false) {
        ctx.addIssue({ code: 'custom', message: 'PROXY_PROTOCOL=true needs TRUST_PROXY: the address of the proxy that sends the PROXY header (e.g. TRUST_PROXY=127.0.0.1)' });
      }
      if (env.TURN_SECRET === undefined) {
        for (const name of ['TURN_URLS', 'TURN_TLS_CERT', 'TURN_RELAY_IP'] as const) {
          if (env[name] !== undefined) ctx.addIssue({ code: 'custom', message: `${name} needs TURN_SECRET (the secret TURN credentials are signed with, e.g. openssl rand -hex 24)` });
        }
      } else if (env.TURN_SERVER === 'external' && env.TURN_URLS === undefined) {
        ctx.addIssue({ code: 'custom', message: 'TURN_SERVER=external needs TURN_URLS: the turn:/turns: URLs of your TURN server' });
      } else if (env.TURN_SERVER === 'coturn' && env.TURN_URLS?.some((url) => url.startsWith('turns:')) && !env.TURN_TLS_CERT && !env.TLS_CERT) {
        ctx.addIssue({ code: 'custom', message: 'TURN_URLS has turns: URLs, but coturn has no certificate for TLS: set TURN_TLS_CERT and TURN_TLS_KEY (or TLS_CERT and TLS_KEY)' });
      }
      if ((env.TURN_TLS_CERT === undefined) !== (env.TURN_TLS_KEY === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'TURN_TLS_CERT and TURN_TLS_KEY must be set together (paths to the PEM certificate chain and private key for TURN over TLS)' });
      }
      for (const [name, file] of [['TURN_TLS_CERT', env.TURN_TLS_CERT], ['TURN_TLS_KEY', env.TURN_TLS_KEY]] as const) {
        if (file !== undefined && !fs.existsSync(file)) ctx.addIssue({ code: 'custom', message: `${name}=${JSON.stringify(file)}: no such file` });
      }
      if ((env.TLS_CERT === undefined) !== (env.TLS_KEY === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'TLS_CERT and TLS_KEY must be set together (paths to the PEM certificate chain and private key)' });
        return;
      }
      for (const [name, file] of [['TLS_CERT', env.TLS_CERT], ['TLS_KEY', env.TLS_KEY]] as const) {
        if (file !== undefined && !fs.existsSync(file)) ctx.addIssue({ code: 'custom', message: `${name}=${JSON.stringify(file)}: no such file` });
      }
    },
    { when: () => true },
  )
  .transform(
    (env): Config => ({
      port: env.PORT,
      host: env.HOST,
      rtcPort: env.RTC_PORT,
      rtcListenIp: env.RTC_LISTEN_IP,
      announcedIp: env.ANNOUNCED_IP,
      workers: env.WORKERS,
      redisUrl: env.REDIS_URL,
      logLevel: env.LOG_LEVEL,
      logFormat: env.LOG_FORMAT,
      emptyRoomGraceMs: env.EMPTY_ROOM_GRACE_MS,
      tls: env.TLS_CERT && env.TLS_KEY ? { cert: env.TLS_CERT, key: env.TLS_KEY } : undefined,
      trustProxy: env.TRUST_PROXY,
      proxyProtocol: env.PROXY_PROTOCOL,
      allowedOrigins: env.ALLOWED_ORIGINS,
      authSecret: env.AUTH_SECRET,
      authPublicKey: env.AUTH_PUBLIC_KEY,
      authAudience: env.AUTH_AUDIENCE,
      authIssuer: env.AUTH_ISSUER,
      authMaxTokenAgeSeconds: env.AUTH_MAX_TOKEN_AGE,
      caps: { participantsPerRoom: env.MAX_PARTICIPANTS, socketsPerAddress: env.MAX_SOCKETS_PER_ADDRESS, seatsPerAddress: env.MAX_SEATS_PER_ADDRESS },
      metrics: { port: env.METRICS_PORT, host: env.METRICS_HOST, token: env.METRICS_TOKEN },
      rateLimits: {
        joinsPerMinute: env.RATE_JOINS_PER_MINUTE,
        connectionsPerMinute: env.RATE_CONNECTIONS_PER_MINUTE,
        requestsPer5s: env.RATE_REQUESTS_PER_5S,
        roomsPerMinute: env.RATE_ROOMS_PER_MINUTE,
        probesPerMinute: env.RATE_PROBES_PER_MINUTE,
      },
      adminToken: env.ADMIN_TOKEN,
      apiKey: env.API_KEY,
      webhook: env.WEBHOOK_URL && env.WEBHOOK_SECRET ? { url: env.WEBHOOK_URL, secret: env.WEBHOOK_SECRET } : undefined,
      nodeId: env.NODE_ID,
      turn: env.TURN_SECRET
        ? {
            secret: env.TURN_SECRET,
            urls: env.TURN_URLS,
            ttlSeconds: env.TURN_TTL_SECONDS,
            server: env.TURN_SERVER,
            port: env.TURN_PORT,
            // TURN over TLS: its own certificate, else Parley's own (TLS_CERT/TLS_KEY).
            tls: env.TURN_TLS_CERT && env.TURN_TLS_KEY ? { cert: env.TURN_TLS_CERT, key: env.TURN_TLS_KEY } : env.TLS_CERT && env.TLS_KEY ? { cert: env.TLS_CERT, key: env.TLS_KEY } : undefined,
            relayIp: env.TURN_RELAY_IP,
            quotas: { user: env.TURN_USER_QUOTA, total: env.TURN_TOTAL_QUOTA, maxBps: env.TURN_MAX_BPS },
          }
        : undefined,
    }),
  );

/** Parses and validates the environment; collects every problem before failing. */
export function loadConfig(env: Env = process.env): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) throw new ConfigError(result.error.issues.map((issue) => issue.message));
  return result.data;
}
