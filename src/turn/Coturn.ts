import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { coturnConfig, type CoturnOptions } from './coturnConfig.ts';

/** How long coturn gets to listen after it starts, and to exit after SIGTERM. */
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 3_000;
const MAX_BACKOFF_MS = 30_000;
const KEPT_OUTPUT_LINES = 40;

/** coturn's binary: TURN_COTURN_BIN, else `turnserver` on PATH (Debian's coturn package). */
export function findTurnserver(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TURN_COTURN_BIN) return fs.existsSync(env.TURN_COTURN_BIN) ? env.TURN_COTURN_BIN : undefined;
  const dirs = (env.PATH ?? '').split(path.delimiter).concat(['/usr/bin', '/usr/local/bin', '/usr/sbin']);
  for (const dir of dirs) {
    const file = path.join(dir, 'turnserver');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * coturn next to Parley, owned by this process: its configuration is written to a private
 * directory (mode 0700, the file 0600: it holds the secret), it is started, restarted with backoff
 * when it dies, and stopped with Parley. Its output goes to Parley's log (debug; warnings and errors
 * as warn).
 */
export class Coturn {
  readonly #bin: string;
  readonly #options: Omit<CoturnOptions, 'stateDir'>;
  readonly #log: Logger;
  readonly #dir: string;
  #child: ChildProcess | undefined;
  #closed = false;
  #restarts = 0;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #output: string[] = [];
  #startedAt = 0;
  /** Parley exiting without close() (a fatal error) takes coturn with it. */
  readonly #onExit = () => this.#child?.kill('SIGKILL');

  constructor(options: Omit<CoturnOptions, 'stateDir'>, log: Logger, bin: string | undefined = findTurnserver()) {
    if (!bin) {
      throw new Error(
        'TURN_SECRET is set, so Parley starts coturn, but no turnserver binary was found: install coturn (Debian: apt-get install coturn), ' +
          'set TURN_COTURN_BIN to its path, or set TURN_SERVER=external if a TURN server of your own checks this secret.',
      );
    }
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 5000 });
    if (version.error) throw new Error(`cannot run coturn at ${bin}: ${version.error.message}`);
    this.#bin = bin;
    this.#options = options;
    this.#log = log.child({ component: 'coturn' });
    this.#dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-coturn-'));
    fs.chmodSync(this.#dir, 0o700);
    fs.writeFileSync(this.configFile, coturnConfig({ ...options, stateDir: this.#dir }), { mode: 0o600 });
    process.once('exit', this.#onExit);
  }

  get configFile(): string {
    return path.join(this.#dir, 'turnserver.conf');
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts coturn; resolves once its port accepts TCP connections. */
  async start(): Promise<void> {
    this.#spawn();
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await this.#listening())) {
      if (this.#closed) return;
      if (this.#child === undefined || this.#child.exitCode !== null) {
        throw new Error(`coturn exited at start (TURN_PORT ${this.#options.port} in use, or not allowed to bind it?):\n${this.#output.join('\n')}`);
      }
      if (Date.now() > deadline) throw new Error(`coturn did not listen on TURN_PORT ${this.#options.port} within ${START_TIMEOUT_MS / 1000} s:\n${this.#output.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    this.#log.info({ port: this.#options.port, tls: !!this.#options.tls, relayIp: this.#options.relayIp, allowedPeers: this.#options.allowedPeers }, 'coturn (TURN relay) listening');
  }

  #listening(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: this.#options.port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      socket.setTimeout(1000, () => done(false));
    });
  }

  #spawn(): void {
    const child = spawn(this.#bin, ['-c', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#startedAt = Date.now();
    const onLine = (line: string) => {
      if (!line.trim()) return;
      this.#output.push(line);
      if (this.#output.length > KEPT_OUTPUT_LINES) this.#output.shift();
      if (/\b(error|cannot|failed)\b/i.test(line) && !/SQLite|Protocol not supported/i.test(line)) this.#log.warn({ line }, 'coturn');
      else this.#log.debug({ line }, 'coturn');
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let pending = '';
      stream.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (pending + chunk).split('\n');
        pending = lines.pop() ?? '';
        lines.forEach(onLine);
      });
    }
    child.once('error', (error) => this.#log.error({ err: error }, 'coturn could not be started'));
    child.once('exit', (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      if (this.#closed) return;
      if (Date.now() - this.#startedAt > 60_000) this.#restarts = 0; // it had been running fine
      const delayMs = Math.min(1000 * 2 ** this.#restarts++, MAX_BACKOFF_MS);
      // A stop signal is usually Parley's own process group being stopped (close() follows at once).
      if (signal === 'SIGTERM' || signal === 'SIGINT') this.#log.info({ signal, restartInMs: delayMs }, 'coturn (TURN relay) stopped by a signal; restarting it unless Parley is stopping');
      else this.#log.error({ code, signal, restartInMs: delayMs, output: this.#output.slice(-10) }, 'coturn (TURN relay) exited; restarting it');
      this.#restartTimer = setTimeout(() => {
        if (!this.#closed) this.#spawn();
      }, delayMs);
      this.#restartTimer.unref();
    });
  }

  /** Stops coturn (SIGTERM, then SIGKILL) and removes its directory. */
  async close(): Promise<void> {
    this.#closed = true;
    process.off('exit', this.#onExit);
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref());
      if ((await Promise.race([exited, timer])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    }
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}
