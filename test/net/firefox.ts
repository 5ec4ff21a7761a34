/**
 * Firefox for the network lab: Debian's firefox-esr, driven over WebDriver BiDi by puppeteer-core
 * (Playwright cannot drive a stock Firefox), running inside the lab's client namespace.
 *
 * Firefox's BiDi server listens on 127.0.0.1 *of the client namespace*, which the test process (in
 * the root namespace) cannot reach. A Unix socket can: a small relay inside the namespace accepts on a
 * socket file in the lab's temp dir and connects to Firefox; the test process listens on its own
 * 127.0.0.1 and forwards to that socket file. Puppeteer connects to the latter.
 *
 *   puppeteer -> 127.0.0.1:<any> (root ns) -> <lab.tmp>/firefox-bidi.sock -> relay (client ns) -> Firefox
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { SERVER_IP, type NetLab } from './netlab.ts';

export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/** Why Firefox cannot run here, or undefined when it can. */
export function firefoxMissing(): string | undefined {
  try {
    fs.accessSync(FIREFOX_PATH, fs.constants.X_OK);
    return undefined;
  } catch {
    return `Firefox not found at ${FIREFOX_PATH} (apt-get install firefox-esr, or set FIREFOX_PATH)`;
  }
}

const PREFS: Record<string, string | number | boolean> = {
  // Fake camera and microphone, no permission prompts, media plays without a gesture.
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // Plain HTTP on the lab's address is not a secure context: treat it as one (Chromium's
  // --unsafely-treat-insecure-origin-as-secure), so getUserMedia is there.
  'dom.securecontext.allowlist': SERVER_IP,
  // Quiet: no first-run pages, updates, telemetry or captive-portal probes.
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.startup.page': 0,
  'startup.homepage_welcome_url': 'about:blank',
  'browser.aboutwelcome.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'app.update.disabledForTesting': true,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'extensions.update.enabled': false,
  // Background tabs (each page is a tab of one window) must keep running at full speed.
  'dom.min_background_timeout_value': 0,
  'dom.timeout.enable_budget_timer_throttling': false,
  'dom.ipc.processPriorityManager.enabled': false,
};

/** Relays each connection on a Unix socket (argv[1]) to 127.0.0.1:argv[2]; runs inside the namespace. */
const RELAY = `
const net = require('node:net');
const [sock, port] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(Number(port), '127.0.0.1');
  c.pipe(u).pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
}).listen(sock, () => console.log('ready'));
`;

function waitForLine(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 60 s:\n${seen}`)), 60_000);
    child[stream]!.setEncoding('utf8').on('data', (chunk: string) => {
      seen += chunk;
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (code ${code}) before starting:\n${seen}`));
    });
  });
}

function end(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

export interface LabFirefox {
  browser: Browser;
  /** Firefox's main process, which leads the process group of all its processes. */
  pid: number;
  close(): Promise<void>;
}

/** Headless Firefox inside the lab's client namespace, connected over WebDriver BiDi. */
export async function launchFirefox(lab: NetLab): Promise<LabFirefox> {
  const dir = fs.mkdtempSync(path.join(lab.tmp, 'firefox-'));
  const profile = path.join(dir, 'profile');
  fs.mkdirSync(profile);
  fs.writeFileSync(path.join(profile, 'user.js'), Object.entries(PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join(''));
  const children: ChildProcess[] = [];
  let relay: net.Server | undefined;
  const close = async () => {
    relay?.close();
    children.forEach(end);
  };
  try {
    const firefox = spawn('ip', ['netns', 'exec', lab.clientNs, FIREFOX_PATH, '--headless', '--no-remote', '--remote-debugging-port=0', '--profile', profile, 'about:blank'], {
      env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    children.push(firefox);
    const [, port] = await waitForLine(firefox, 'stderr', /WebDriver BiDi listening on ws:\/\/[^:]+:(\d+)/, 'Firefox');
    firefox.stderr!.resume();

    const sock = path.join(dir, 'bidi.sock');
    const inside = spawn('ip', ['netns', 'exec', lab.clientNs, process.execPath, '-e', RELAY, sock, port!], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    children.push(inside);
    await waitForLine(inside, 'stdout', /ready/, 'the BiDi relay');

    relay = net.createServer((c) => {
      const u = net.connect(sock);
      c.pipe(u).pipe(c);
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve) => relay!.listen(0, '127.0.0.1', resolve));
    const local = (relay.address() as net.AddressInfo).port;
    const browser = await puppeteer.connect({
      browserWSEndpoint: `ws://127.0.0.1:${local}/session`, protocol: 'webDriverBiDi',
      // Firefox checks the Host header against its own address and port.
      headers: { Host: `127.0.0.1:${port}` },
    });
    return {
      browser,
      pid: firefox.pid!,
      async close() {
        await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5_000).unref())]);
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}
