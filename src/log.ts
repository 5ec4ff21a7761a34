import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

/** Structured JSON logs on stdout; rooms and peers get child loggers. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { app: 'parley' } });
}
