import { pino, type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { LogFormat, LogLevel } from './config.ts';
import { isPrivateIPv4 } from './net/clientAddress.ts';

export type { Logger };

export interface LogOptions {
  /** `auto` (default): human-readable when the destination is a terminal, JSON lines otherwise. */
  format?: LogFormat;
  /** Default: stdout. Tests pass a stream of their own. */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The format `auto` resolves to for a destination: pretty on a terminal, JSON for pipes, files and log collectors. */
export function resolveLogFormat(format: LogFormat, destination: { isTTY?: boolean }): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return destination.isTTY === true ? 'pretty' : 'json';
}

/**
 * Logs on stdout: JSON lines (one object per line, for log collectors) or, on a terminal, pino's
 * own pretty printer (`HH:MM:ss INFO: message` plus the fields below it). Rooms and peers get child
 * loggers. Both write synchronously, so a `process.exit()` right after a log call loses nothing.
 */
export function createLogger(level: LogLevel, options: LogOptions = {}): Logger {
  const destination = options.destination ?? process.stdout;
  const base = { app: 'parley' };
  if (resolveLogFormat(options.format ?? 'auto', destination) === 'json') {
    // pino's default destination is stdout, written synchronously.
    return destination === process.stdout ? pino({ level, base }) : pino({ level, base }, destination as DestinationStream);
  }
  const pretty = pinoPretty({
    destination: destination === process.stdout ? 1 : destination,
    sync: true,
    colorize: destination.isTTY === true && !process.env.NO_COLOR,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,app',
  });
  return pino({ level, base }, pretty);
}

/** Addresses only this machine or its local network can reach: loopback, RFC 1918, link-local, CGNAT, IPv6 ULA. */
function reach(address: string): 'this machine' | 'local network' | 'internet' {
  const v4 = address.replace(/^::ffff:/i, '');
  if (/^127\./.test(v4) || address === '::1') return 'this machine';
  if (isPrivateIPv4(v4) || /^f[cd][0-9a-f]{2}:/i.test(address) || /^fe[89ab][0-9a-f]:/i.test(address)) return 'local network';
  return 'internet';
}

/**
 * The one line logged when Parley is ready: where to open the call, and the address browsers send
 * media to, with what to do when only this machine or its local network can reach it.
 */
export function readyLine(url: string, announcedAddress: string, rtcPorts: string): { msg: string; reach: ReturnType<typeof reach> } {
  const where = reach(announcedAddress);
  let msg = `Parley is ready: open ${url} to start a call. Media goes to ${announcedAddress} (ports ${rtcPorts}, UDP and TCP)`;
  if (where === 'this machine') msg += ': a loopback address, so only browsers on this machine get media. For anyone else, set ANNOUNCED_IP to the address they reach this server at (its public IP).';
  else if (where === 'local network') msg += ': a private address, so only browsers on the same local network get media. For calls over the internet, set ANNOUNCED_IP to the server\'s public IP and open those ports.';
  else msg += '.';
  return { msg, reach: where };
}
