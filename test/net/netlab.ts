/**
 * A two-namespace network for the real server and real browsers (Chromium, and Firefox: firefox.ts): the server in one network
 * namespace behind an nftables firewall, Chromium in another, joined by a veth pair.
 *
 *   [client ns]  10.77.0.2/24  p0 <==veth==> p0  10.77.0.1/24  [server ns: nft input policy drop]
 *   [open ns]    10.77.0.3/24  p0 <==veth==> p1  (addOpenClient: a second browser, no firewall; then the
 *                                                   server's p0 and p1 are ports of a bridge br0 that holds 10.77.0.1/24)
 *
 * Names carry the creating process id (`parleynet-<pid>-srv`), so concurrent runs never collide and a
 * later run can sweep what a killed run left behind (see sweepStale).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SERVER_IP = '10.77.0.1';
export const CLIENT_IP = '10.77.0.2';
/** The second client namespace (addOpenClient). */
export const OPEN_CLIENT_IP = '10.77.0.3';
export const HTTP_PORT = 8080;
export const RTC_PORT = 40000;
export const ORIGIN = `http://${SERVER_IP}:${HTTP_PORT}`;
const PREFIX = 'parleynet-';
const ROOT = path.resolve(import.meta.dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function run(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 15_000 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** Why the suite cannot run here, or undefined when it can. */
export function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network tests need root (ip netns, nftables)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' });
  } catch {
    return '`ip netns` is not available (install iproute2)';
  }
  return undefined;
}

function namespaces(): string[] {
  return run('ip', ['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((name) => name.startsWith(PREFIX));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Ends what still runs inside a namespace (only processes this suite started there), then deletes it. */
function deleteNamespace(ns: string): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    let pids: number[] = [];
    try {
      pids = run('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean).map(Number);
    } catch {
      break; // already gone
    }
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, attempt === 0 ? 'SIGTERM' : 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    execFileSync('sleep', [attempt === 0 ? '0.5' : '0.2']);
  }
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
  } catch {
    // already gone
  }
}

/** Removes namespaces (and temp dirs) left by runs whose process is gone (killed runs, crashed workers). */
export function sweepStale(): string[] {
  const stale = (name: string) => {
    const pid = Number(/^parleynet-(\d+)-/.exec(name)?.[1]);
    return pid > 0 && !alive(pid);
  };
  const swept = namespaces().filter(stale);
  for (const ns of swept) deleteNamespace(ns);
  for (const dir of fs.readdirSync(os.tmpdir()).filter(stale)) fs.rmSync(path.join(os.tmpdir(), dir), { recursive: true, force: true });
  return swept;
}

/** The Node that runs `src/main.ts`: it needs type stripping (Node >= 22.18). PARLEY_NODE overrides. */
function serverNode(): string {
  if (process.env.PARLEY_NODE) return process.env.PARLEY_NODE;
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 18)) return process.execPath;
  throw new Error(
    `The tests run on Node ${process.version} (${process.execPath}), but the server needs Node >= 22.18 to run TypeScript directly. ` +
      'Put Node 24 first in PATH (export PATH=/work/tools/node_modules/.bin:$PATH) or set PARLEY_NODE to its path.',
  );
}

export interface FirewallOptions {
  /** Accept UDP to the media port (else it is dropped and counted). */
  udp: boolean;
  /** More TCP ports to accept (e.g. 443 for the TURN lab's proxy), each counted as "tcp-<port>". */
  tcpPorts?: number[];
}

export interface ServerOptions {
  announcedIp?: string;
  /** More environment for the server (TURN_*, TRUST_PROXY, …). */
  env?: Record<string, string>;
}

export interface RunningServer {
  origin: string;
  log: () => string;
  stop(): Promise<void>;
}

export class NetLab {
  readonly id = `${PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  readonly serverNs = `${this.id}-srv`;
  readonly clientNs = `${this.id}-cli`;
  readonly openNs = `${this.id}-opn`;
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
  #servers = new Set<ChildProcess>();
  #helpers = new Set<ChildProcess>();
  #destroyed = false;
  readonly #onExit = () => this.destroySync();

  constructor() {
    // Fixture teardown is the normal path; this covers a worker that exits without it.
    process.once('exit', this.#onExit);
  }

  create(): void {
    try {
      run('ip', ['netns', 'add', this.serverNs]);
      run('ip', ['netns', 'add', this.clientNs]);
      run('ip', ['-n', this.serverNs, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p0', 'netns', this.clientNs]);
      for (const [ns, ip] of [[this.serverNs, SERVER_IP], [this.clientNs, CLIENT_IP]] as const) {
        run('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'p0']);
        run('ip', ['-n', ns, 'link', 'set', 'p0', 'up']);
        run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      }
    } catch (error) {
      this.destroySync();
      throw error;
    }
  }

  /** Input policy drop in the server namespace: loopback, replies, the HTTP port and the media port only. */
  firewall(options: FirewallOptions): void {
    const { udp } = options;
    const ruleset = `
table inet parley_net
delete table inet parley_net
table inet parley_net {
  chain input {
    type filter hook input priority filter; policy drop;
    iif "lo" accept
    ct state established,related accept
    tcp dport ${HTTP_PORT} accept
${(options.tcpPorts ?? []).map((port) => `    tcp dport ${port} counter accept comment "tcp-${port}"`).join('\n')}
    tcp dport ${RTC_PORT} counter accept comment "media-tcp"
    udp dport ${RTC_PORT} counter ${udp ? 'accept' : 'drop'} comment "media-udp"
  }
}
`;
    run('ip', ['netns', 'exec', this.serverNs, 'nft', '-f', '-'], ruleset);
  }

  /** Packets the firewall counted for a rule ("media-udp", "media-tcp" or "tcp-<port>"). */
  counter(comment: string): number {
    return this.#count(this.serverNs, 'input', comment);
  }

  #count(ns: string, chain: string, comment: string): number {
    const out = run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 'parley_net', chain]);
    const line = out.split('\n').find((l) => l.includes(`comment "${comment}"`));
    return Number(/packets (\d+)/.exec(line ?? '')?.[1] ?? 0);
  }

  /**
   * A network that lets only TCP to the server's port(s) `tcpPorts` out, as in many offices, hotels
   * and schools: the client namespace's output policy drops everything else (counted as "dropped";
   * what got out as "out-tcp-<port>").
   */
  restrictClient({ tcpPorts }: { tcpPorts: number[] }): void {
    const ruleset = `
table inet parley_net
delete table inet parley_net
table inet parley_net {
  chain output {
    type filter hook output priority filter; policy drop;
    oif "lo" accept
    ct state established,related accept
${tcpPorts.map((port) => `    ip daddr ${SERVER_IP} tcp dport ${port} counter accept comment "out-tcp-${port}"`).join('\n')}
    counter comment "dropped"
  }
}
`;
    run('ip', ['netns', 'exec', this.clientNs, 'nft', '-f', '-'], ruleset);
  }

  /** Packets the client namespace's firewall (restrictClient) counted for a rule. */
  clientCounter(comment: string): number {
    return this.#count(this.clientNs, 'output', comment);
  }

  /**
   * A second client namespace with no firewall: the "open network". It shares the client's subnet
   * through a bridge in the server namespace, so the server answers it from the address it
   * announces (on a second subnet, a server bound to 0.0.0.0 would answer UDP from another address).
   */
  addOpenClient(): string {
    const ns = this.openNs;
    const srv = (...args: string[]) => run('ip', ['-n', this.serverNs, ...args]);
    try {
      run('ip', ['netns', 'add', ns]);
      srv('link', 'add', 'br0', 'type', 'bridge');
      srv('addr', 'del', `${SERVER_IP}/24`, 'dev', 'p0');
      srv('link', 'set', 'p0', 'master', 'br0');
      srv('link', 'add', 'p1', 'type', 'veth', 'peer', 'name', 'p0', 'netns', ns);
      srv('link', 'set', 'p1', 'master', 'br0');
      srv('link', 'set', 'p1', 'up');
      srv('addr', 'add', `${SERVER_IP}/24`, 'dev', 'br0');
      srv('link', 'set', 'br0', 'up');
      run('ip', ['-n', ns, 'addr', 'add', `${OPEN_CLIENT_IP}/24`, 'dev', 'p0']);
      run('ip', ['-n', ns, 'link', 'set', 'p0', 'up']);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    } catch (error) {
      deleteNamespace(ns);
      throw error;
    }
    return ns;
  }

  /** Runs a command in a namespace to its end (15 s at most); its output. Throws when it fails. */
  exec(ns: string, cmd: string, args: string[]): string {
    return run('ip', ['netns', 'exec', ns, cmd, ...args]);
  }

  /** Runs a command in a namespace to its end, failing or not: its exit code and all it printed. */
  execAny(ns: string, cmd: string, args: string[], timeoutMs = 30_000): { code: number | null; output: string } {
    const result = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
    return { code: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `\n[${result.error.message}]` : ''}` };
  }

  /** A long-running helper (a proxy, a UDP peer) in a namespace, ended with the lab. */
  spawnIn(ns: string, cmd: string, args: string[]): { child: ChildProcess; output: () => string } {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.#helpers.add(child);
    child.once('exit', () => this.#helpers.delete(child));
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    return { child, output: () => output };
  }

  /** The real server (`node src/main.ts`) inside the server namespace; resolves once it listens. */
  async startServer(options: ServerOptions = {}): Promise<RunningServer> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      PORT: String(HTTP_PORT),
      HOST: '0.0.0.0',
      RTC_PORT: String(RTC_PORT),
      RTC_LISTEN_IP: '0.0.0.0',
      ANNOUNCED_IP: options.announcedIp ?? SERVER_IP,
      WORKERS: '1',
      LOG_LEVEL: 'info',
      EMPTY_ROOM_GRACE_MS: '1000',
      ...options.env,
    };
    const nodeBin = serverNode();
    const child = spawn('ip', ['netns', 'exec', this.serverNs, nodeBin, 'src/main.ts'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: stop() ends the server and its media workers together
    });
    this.#servers.add(child);
    let log = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start within 20 s:\n${log}`)), 20_000);
      const check = () => {
        if (log.includes('"parley listening"')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server (${nodeBin}) exited (code ${code}) before listening:\n${log}`));
      });
    }).catch(async (error) => {
      await this.#stop(child, exited);
      throw error;
    });

    return {
      origin: ORIGIN,
      log: () => log,
      stop: () => this.#stop(child, exited),
    };
  }

  async #stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 8_000).unref());
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
        await exited;
      }
    }
    this.#servers.delete(child);
  }

  /** An executable Playwright can launch: Chromium, but inside the client namespace (or `ns`). */
  chromiumWrapper(ns: string = this.clientNs): string {
    const file = path.join(this.tmp, `chromium-in-${ns}.sh`);
    fs.writeFileSync(file, `#!/bin/sh\nexec ip netns exec '${ns}' '${CHROMIUM}' "$@"\n`, { mode: 0o755 });
    return file;
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.#servers].map((child) => this.#stop(child, new Promise((resolve) => child.once('exit', () => resolve())))));
    this.destroySync();
  }

  destroySync(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    process.off('exit', this.#onExit);
    for (const child of [...this.#servers, ...this.#helpers]) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    deleteNamespace(this.openNs);
    deleteNamespace(this.clientNs);
    deleteNamespace(this.serverNs);
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}
