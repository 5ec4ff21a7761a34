/**
 * Building blocks of config.ts: how one environment variable is read, and the parsers of the values
 * that need more than a number (proxy trust, durations, token keys).
 */
import fs from 'node:fs';
import { isIP } from 'node:net';
import proxyAddr from 'proxy-addr';
import { z } from 'zod';
import { algorithmsForKey } from './auth/tokenKeys.ts';

/** A variable's text, trimmed; blank counts as unset. */
export const text = z
  .string()
  .optional()
  .transform((value) => value?.trim() || undefined);

/**
 * One environment variable. Unset: `fallback`. Set: `parse` gives the value, or undefined when the
 * text is unusable, reported as `NAME="text" <must>` so the message says what to set instead. Every
 * variable is checked, so one start reports every problem at once.
 */
export function variable<T>(name: string, fallback: T, must: string, parse: (raw: string) => T | undefined) {
  return text.transform((raw, ctx): T => {
    if (raw === undefined) return fallback;
    const value = parse(raw);
    if (value !== undefined) return value;
    ctx.addIssue({ code: 'custom', message: `${name}=${JSON.stringify(raw)} ${must}`, continue: true });
    return fallback;
  });
}

export const wholeNumber = (raw: string) => (/^\d+$/.test(raw) ? Number(raw) : undefined);
export const within = (min: number, max: number) => (raw: string) => {
  const n = wholeNumber(raw);
  return n !== undefined && n >= min && n <= max ? n : undefined;
};
export const port = (name: string, fallback: number, min = 1) => variable(name, fallback, `must be a port number between ${min} and 65535`, within(min, 65535));
export const ip = <T extends string | undefined>(name: string, fallback: T) =>
  variable<string | T>(name, fallback, 'must be an IPv4 or IPv6 address (e.g. 203.0.113.7)', (raw) => (isIP(raw) === 0 ? undefined : raw));
export const count = (name: string, fallback: number) => variable(name, fallback, 'must be a whole number (0 turns the limit off)', wholeNumber);
export const optional = text.transform((raw): string | undefined => raw);
export const flag = (name: string) => variable(name, false, 'must be true or false', (raw) => (/^(true|false|1|0|yes|no)$/i.test(raw) ? /^(true|1|yes)$/i.test(raw) : undefined));

/**
 * Which peers are reverse proxies whose X-Forwarded-For entries count: false (none), a number of
 * hops (the nearest N peers are proxies; `true` is 1), or a list of proxy addresses and CIDR ranges
 * (also proxy-addr's names loopback, linklocal, uniquelocal).
 */
export type TrustProxy = false | number | readonly string[];

export function parseTrustProxy(raw: string): TrustProxy | undefined {
  if (/^(false|no|0)$/i.test(raw)) return false;
  if (/^(true|yes)$/i.test(raw)) return 1;
  if (/^\d+$/.test(raw)) return Number(raw) >= 1 && Number(raw) <= 10 ? Number(raw) : undefined;
  const list = raw.split(',').map((entry) => entry.trim()).filter(Boolean);
  try {
    proxyAddr.compile(list);
  } catch {
    return undefined;
  }
  return list.length > 0 ? list : undefined;
}

/** "90", "90s", "15m", "2h", "1d" → seconds; "0" → 0 (off). */
export function parseDuration(raw: string): number | undefined {
  const match = /^(\d+)\s*(s|m|h|d)?$/i.exec(raw);
  if (!match) return undefined;
  const scale = { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? 's').toLowerCase() as 's'];
  return Number(match[1]) * scale;
}

/** AUTH_PUBLIC_KEY: a readable PEM public key of a kind tokens can be verified with (never echoed). */
export const publicKeyFile = text.transform((file, ctx): string | undefined => {
  if (file === undefined) return undefined;
  const problem = (what: string) => ctx.addIssue({ code: 'custom', message: `AUTH_PUBLIC_KEY=${JSON.stringify(file)} ${what}`, continue: true });
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch {
    problem('cannot be read');
    return undefined;
  }
  if (!pem.includes('BEGIN PUBLIC KEY')) {
    problem('must be a PEM public key file (-----BEGIN PUBLIC KEY-----)');
    return pem;
  }
  const algorithms = algorithmsForKey(pem);
  if ('error' in algorithms) problem(algorithms.error);
  return pem;
});
