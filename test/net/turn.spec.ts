/**
 * Connect from anywhere: the TURN relay, in the network-namespace lab (see netlab.ts).
 *
 *   [client ns: only TCP to 10.77.0.1:443 gets out]  ──┐
 *                                                      ├── [server ns: nginx on 443 ─ SNI ─┬─ the page (nginx https → Parley :8080)
 *   [open ns: no firewall]  ───────────────────────────┘                                   └─ coturn :3478 (started by Parley)
 *
 * The server namespace runs the one-port layout README "Connect from anywhere" documents, with the
 * same nginx configuration (stream + ssl_preread in front, the page's https server behind it), and
 * Parley with TURN_SECRET, which starts coturn itself. Needs coturn (turnserver, and turnutils_peer
 * as a UDP echo peer) and nginx with its stream module: CI installs them (.ci/run); without them the
 * tests fail, they do not skip. The raw TURN client for the relay's rules is turnClient.ts.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test as base, expect, chromium, type Browser, type Page } from '@playwright/test';
import { mintTurnCredentials } from '../../src/auth/turnCredentials.ts';
import { CHROMIUM_ARGS } from '../helpers/chromium.ts';
import { HTTP_PORT, NetLab, OPEN_CLIENT_IP, RTC_PORT, SERVER_IP, skipReason, type RunningServer } from './netlab.ts';

const PAGE_HOST = 'call.parley.test';
const TURN_HOST = 'turn.parley.test';
const ORIGIN = `https://${PAGE_HOST}`;
const TURN_PORT = 3478;
const SECRET = 'lab-turn-secret-0123456789abcdef';
const TURN_URLS = [`turns:${TURN_HOST}:443?transport=tcp`, `turn:${SERVER_IP}:443?transport=tcp`];
const SCREENSHOTS = 'test-results/screenshots';

/** What the lab needs besides the ordinary net suite's tools: a clear failure, never a silent skip. */
function missingTools(): string | undefined {
  const missing = ['turnserver', 'turnutils_peer', 'nginx'].filter((tool) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore', env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) return `${missing.join(', ')} not found: install coturn and nginx-light libnginx-mod-stream (Debian), as .ci/run does`;
  if (!fs.existsSync('/usr/lib/nginx/modules/ngx_stream_module.so')) return 'nginx\'s stream module is missing: install libnginx-mod-stream (Debian), as .ci/run does';
  return undefined;
}

function certificate(dir: string, name: string): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

/**
 * The README's nginx configuration for one port, with the lab's names: TLS for the page's name goes
 * to nginx's own https server, which proxies to Parley with X-Forwarded-For (TRUST_PROXY=127.0.0.1);
 * everything else (TLS for the TURN name, TLS without a name, TURN over plain TCP) to coturn.
 */
function nginxConfig(dir: string, page: { cert: string; key: string }): string {
  return `
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 256; }

stream {
    map $ssl_preread_server_name $backend_443 {
        ${PAGE_HOST}  127.0.0.1:8443;
        default           127.0.0.1:${TURN_PORT};
    }
    server {
        listen 443;
        ssl_preread on;
        proxy_pass $backend_443;
    }
}

http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server {
        listen 127.0.0.1:8443 ssl;
        server_name ${PAGE_HOST};
        ssl_certificate     ${page.cert};
        ssl_certificate_key ${page.key};
        location / {
            proxy_pass http://127.0.0.1:${HTTP_PORT};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_read_timeout 1h;
        }
    }
}
`;
}

/** A Chromium whose network is namespace `ns`, for the whole worker. */
async function useBrowserIn(ns: string, lab: NetLab, use: (browser: Browser) => Promise<void>): Promise<void> {
  const browser = await chromium.launch({ executablePath: lab.chromiumWrapper(ns), args: chromiumArgs() });
  try {
    await use(browser);
  } finally {
    await browser.close();
  }
}

type WorkerFixtures = { lab: NetLab; server: RunningServer; restricted: Browser; open: Browser };

const test = base.extend<{ pages: Page[] }, WorkerFixtures>({
  lab: [
    async ({}, use) => {
      const missing = missingTools();
      if (missing) throw new Error(missing);
      const lab = new NetLab();
      lab.create();
      try {
        lab.addOpenClient();
        // The server: 443 (the proxy) and the media ports; coturn's own port stays closed from outside.
        lab.firewall({ udp: true, tcpPorts: [443] });
        // The restricted network: nothing but TCP to the server's port 443.
        lab.restrictClient({ tcpPorts: [443] });
        await use(lab);
      } finally {
        await lab.destroy();
      }
    },
    { scope: 'worker' },
  ],
  server: [
    async ({ lab }, use) => {
      const page = certificate(lab.tmp, PAGE_HOST);
      const turn = certificate(lab.tmp, TURN_HOST);
      fs.writeFileSync(path.join(lab.tmp, 'nginx.conf'), nginxConfig(lab.tmp, page));
      const nginx = lab.spawnIn(lab.serverNs, 'nginx', ['-c', path.join(lab.tmp, 'nginx.conf'), '-g', 'daemon off;']);
      const server = await lab.startServer({
        env: { TRUST_PROXY: '127.0.0.1', TURN_SECRET: SECRET, TURN_PORT: String(TURN_PORT), TURN_URLS: TURN_URLS.join(','), TURN_TLS_CERT: turn.cert, TURN_TLS_KEY: turn.key, LOG_LEVEL: 'debug' },
      });
      try {
        expect(server.log()).toContain('coturn (TURN relay) listening');
        // nginx answers on 443 (it started while Parley did).
        await expect.poll(() => lab.exec(lab.serverNs, 'ss', ['-ltnH', 'sport = :443']).includes(':443'), { timeout: 10_000 }).toBe(true);
        await use(server);
      } finally {
        await server.stop();
        nginx.child.kill('SIGTERM');
        // For a failure's post-mortem: Parley's log (with coturn's lines at debug) and nginx's.
        fs.mkdirSync('test-results', { recursive: true });
        fs.writeFileSync('test-results/turn-lab-server.log', `${server.log()}\n--- nginx ---\n${nginx.output()}${fs.existsSync(path.join(lab.tmp, 'nginx-error.log')) ? fs.readFileSync(path.join(lab.tmp, 'nginx-error.log'), 'utf8') : ''}`);
      }
    },
    { scope: 'worker' },
  ],
  restricted: [async ({ lab }, use) => useBrowserIn(lab.clientNs, lab, use), { scope: 'worker' }],
  open: [async ({ lab }, use) => useBrowserIn(lab.openNs, lab, use), { scope: 'worker' }],
  pages: async ({}, use, testInfo) => {
    const pages: Page[] = [];
    await use(pages);
    if (testInfo.status !== testInfo.expectedStatus) {
      for (const [i, page] of pages.entries()) {
        await testInfo.attach(`page-${i}.png`, { body: await page.screenshot().catch(() => Buffer.alloc(0)), contentType: 'image/png' });
      }
    }
    await Promise.all(pages.map((page) => page.context().close().catch(() => {})));
  },
});

function chromiumArgs(): string[] {
  // The lab's names (no DNS in the namespaces) and its self-signed certificates.
  return [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${PAGE_HOST} ${SERVER_IP}, MAP ${TURN_HOST} ${SERVER_IP}`, '--ignore-certificate-errors'];
}

test.skip(skipReason() !== undefined, skipReason());

async function openPage(browser: Browser, pages: Page[], pathname: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 }, permissions: ['camera', 'microphone'], ignoreHTTPSErrors: true });
  const page = await context.newPage();
  pages.push(page);
  await page.goto(`${ORIGIN}${pathname}`);
  return page;
}

async function join(page: Page, roomId: string, name: string): Promise<void> {
  await page.goto(`${ORIGIN}/r/${roomId}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join call' }).click();
  await expect(page.locator('.status-dot.is-connected')).toBeVisible({ timeout: 30_000 });
}

/** Remote videos really playing: decoded frames rising and a non-zero size. */
function playingRemoteVideos(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const videos = [...document.querySelectorAll<HTMLVideoElement>('.tile:not(.is-local) video')];
    const before = videos.map((v) => v.getVideoPlaybackQuality().totalVideoFrames);
    await new Promise((r) => setTimeout(r, 700));
    return videos.filter((v, i) => v.checkVisibility() && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > before[i]!).length;
  });
}

/** Audio packets received so far, over all of the page's audio consumers. */
function audioPacketsIn(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const stats = await (window as any).parley.stats();
    return stats.consumers.filter((c: { kind: string }) => c.kind === 'audio').reduce((sum: number, c: { packetsReceived: number }) => sum + c.packetsReceived, 0);
  });
}

async function expectMediaBothWays(pages: Page[]): Promise<void> {
  for (const page of pages) await expect.poll(() => playingRemoteVideos(page), { timeout: 45_000 }).toBe(1);
  for (const page of pages) {
    const before = await audioPacketsIn(page);
    await expect.poll(() => audioPacketsIn(page), { timeout: 20_000 }).toBeGreaterThan(before);
  }
}

const mediaPath = (page: Page) => page.evaluate(() => (window as any).parley.state.mediaPath as string | null);
/** Each transport's end of the pair in use ({send: {type: 'relay', …}, recv: …}). */
const transportPaths = (page: Page) => page.evaluate(() => (window as any).parley.paths() as Promise<Record<string, { type: string; relayProtocol?: string }>>);

/** Waits for the connection check to finish; returns its status region. */
async function checkResult(page: Page) {
  await expect(page.getByRole('heading', { level: 1, name: 'Connection check' })).toBeVisible();
  const status = page.getByRole('status');
  await expect(status).toHaveAttribute('data-outcome', /^(udp|tcp|relay|connected|none|error)$/, { timeout: 40_000 });
  return status;
}

function facts(page: Page, term: string) {
  return page.locator('.check-facts > div').filter({ has: page.locator('dt', { hasText: term }) }).locator('dd');
}

test('a browser that may only reach TCP 443 calls one on an open network: both see and hear each other through the relay', async ({ lab, server, restricted, open, pages }) => {
  test.setTimeout(240_000);
  expect(server.origin).toBeTruthy();

  const alice = await openPage(open, pages, '/');
  const html = await alice.evaluate(async () => (await fetch('/rooms', { method: 'POST' })).text());
  const roomId = /\/r\/([A-Za-z0-9_-]+)/.exec(html)?.[1];
  expect(roomId, 'a room minted through the proxy').toBeTruthy();
  const bob = await openPage(restricted, pages, '/');
  await Promise.all([join(alice, roomId!, 'Alice'), join(bob, roomId!, 'Bob')]);

  // Video and audio, both ways.
  await expectMediaBothWays([alice, bob]);

  // Bob's media can only have gone through the relay: his network let nothing but TCP 443 out, and
  // it did drop his direct attempts. His page knows it and says so; Alice's went direct.
  expect(lab.clientCounter('dropped'), 'direct attempts dropped on the restricted network').toBeGreaterThan(0);
  expect(lab.clientCounter('out-tcp-443'), 'TCP 443 let out').toBeGreaterThan(0);
  await expect.poll(() => mediaPath(bob)).toBe('relay');
  await expect.poll(() => mediaPath(alice)).toBe('direct');
  await expect(bob.getByRole('status').filter({ hasText: 'this call goes through the relay server' })).toBeVisible();
  await expect(alice.getByRole('status').filter({ hasText: 'relay server' })).toHaveCount(0);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await bob.screenshot({ path: `${SCREENSHOTS}/turn-call-relayed.png` });

  // The connection check, on each network: "Relay only" where only 443 gets out.
  const bobCheck = await openPage(restricted, pages, '/connectivity');
  const bobStatus = await checkResult(bobCheck);
  await expect(bobStatus).toHaveAttribute('data-outcome', 'relay');
  await expect(bobStatus).toContainText('Relay only');
  await expect(facts(bobCheck, 'Paths tested').getByRole('listitem')).toHaveText(['UDP: blocked', 'TCP: blocked', /^Relay \(TURN\): works \(over (TCP|TLS)\)$/]);
  await expect(facts(bobCheck, 'Connected to')).toContainText(`UDP ${SERVER_IP}:${RTC_PORT} through the relay server`);
  await bobCheck.screenshot({ path: `${SCREENSHOTS}/connectivity-relay-only.png`, fullPage: true });

  const aliceCheck = await openPage(open, pages, '/connectivity');
  const aliceStatus = await checkResult(aliceCheck);
  await expect(aliceStatus).toHaveAttribute('data-outcome', 'udp');
  await expect(facts(aliceCheck, 'Paths tested').getByRole('listitem')).toHaveText(['UDP: works', 'TCP: works', /^Relay \(TURN\): works/]);
});

test('when the first attempt gets nowhere, the browser retries through the relay on its own and says so', async ({ lab, server, restricted, open, pages }) => {
  test.setTimeout(240_000);
  expect(server.origin).toBeTruthy();
  // The relay is out of reach at first: the proxy cannot open connections to coturn.
  lab.exec(lab.serverNs, 'nft', ['add', 'chain', 'inet', 'parley_net', 'output', '{ type filter hook output priority filter; policy accept; }']);
  lab.exec(lab.serverNs, 'nft', ['add', 'rule', 'inet', 'parley_net', 'output', 'ip', 'daddr', '127.0.0.1', 'tcp', 'dport', String(TURN_PORT), 'ct', 'state', 'new', 'counter', 'drop']);
  try {
    const alice = await openPage(open, pages, '/');
    const html = await alice.evaluate(async () => (await fetch('/rooms', { method: 'POST' })).text());
    const roomId = /\/r\/([A-Za-z0-9_-]+)/.exec(html)?.[1];
    expect(roomId).toBeTruthy();
    const carol = await openPage(restricted, pages, '/');
    await Promise.all([join(alice, roomId!, 'Alice'), join(carol, roomId!, 'Carol')]);

    // Nothing gets through for Carol: her page switches to relay-only by itself and tells her.
    await expect(carol.getByRole('status').filter({ hasText: 'A direct connection to the media server did not work. Trying again through the relay server' })).toBeVisible({ timeout: 60_000 });
    expect(await mediaPath(carol)).toBeNull();
  } finally {
    // The relay comes back; the retry under way (or the next one) gets through.
    lab.exec(lab.serverNs, 'nft', ['flush', 'chain', 'inet', 'parley_net', 'output']);
    lab.exec(lab.serverNs, 'nft', ['delete', 'chain', 'inet', 'parley_net', 'output']);
  }
  const [alice, carol] = pages as [Page, Page];
  await expectMediaBothWays([alice, carol]);
  await expect.poll(() => mediaPath(carol), { timeout: 20_000 }).toBe('relay');
  // Relayed only: both of Carol's transports use a relay candidate.
  const paths = await transportPaths(carol);
  expect(Object.values(paths).map((p) => p.type)).toEqual(['relay', 'relay']);
  await expect(carol.getByRole('status').filter({ hasText: 'this call goes through the relay server' })).toBeVisible();
});

test('the relay refuses to relay to an address that is not Parley\'s, and refuses expired credentials', async ({ lab, server }) => {
  test.setTimeout(120_000);
  expect(server.origin).toBeTruthy();
  // UDP echo peers: one on Parley's media address, one elsewhere (the open network's browser machine).
  lab.spawnIn(lab.serverNs, 'turnutils_peer', ['-p', '35000', '-L', SERVER_IP]);
  lab.spawnIn(lab.openNs, 'turnutils_peer', ['-p', '35000', '-L', OPEN_CLIENT_IP]);
  await expect.poll(() => lab.exec(lab.openNs, 'ss', ['-lunH', 'sport = :35000']).includes(OPEN_CLIENT_IP)).toBe(true);
  await expect.poll(() => lab.exec(lab.serverNs, 'ss', ['-lunH', 'sport = :35000']).includes(SERVER_IP)).toBe(true);

  interface Relayed {
    allocated: boolean;
    permission?: 'ok' | number;
    echoed?: number;
    error?: string;
  }
  /**
   * A TURN client on the restricted network (only TCP 443 gets out; turnClient.ts), with credentials
   * as Parley mints them: allocates a relay, asks for a permission to `peer`, sends 5 messages
   * through it and counts the echoes.
   */
  const relay = (peer: string, { tls = false, ageMs = 0 } = {}): Relayed => {
    const { username, credential } = mintTurnCredentials({ secret: SECRET, urls: [], ttlSeconds: 600 }, 'lab-user', Date.now() - ageMs);
    const options = { host: SERVER_IP, port: 443, tls, servername: tls ? TURN_HOST : undefined, username, credential, peer, peerPort: 35000, messages: 5 };
    const { output } = lab.execAny(lab.clientNs, process.execPath, [path.join(import.meta.dirname, 'turnClient.ts'), JSON.stringify(options)], 30_000);
    try {
      return JSON.parse(output.trim().split('\n').at(-1)!) as Relayed;
    } catch {
      throw new Error(`turnClient.ts printed no result:\n${output}`);
    }
  };

  // To Parley's own media address the relay works, over TCP and over TLS, through port 443.
  expect(relay(SERVER_IP)).toEqual({ allocated: true, relayed: expect.stringMatching(/^10\.77\.0\.1:\d+$/), permission: 'ok', echoed: 5 });
  // Over TLS: port 443 hands TLS for the TURN name to coturn (SNI), which shows its own certificate,
  // while the page's name gets the web server's.
  const hello = lab.execAny(lab.clientNs, 'openssl', ['s_client', '-connect', `${SERVER_IP}:443`, '-servername', TURN_HOST, '-brief'], 15_000);
  expect(hello.output, 'TLS for the TURN name ends at coturn').toMatch(new RegExp(`CN ?= ?${TURN_HOST.replace(/\./g, '\\.')}`));
  const page = lab.execAny(lab.clientNs, 'openssl', ['s_client', '-connect', `${SERVER_IP}:443`, '-servername', PAGE_HOST, '-brief'], 15_000);
  expect(page.output, 'TLS for the page\'s name ends at the web server').toMatch(new RegExp(`CN ?= ?${PAGE_HOST.replace(/\./g, '\\.')}`));
  expect(relay(SERVER_IP, { tls: true })).toMatchObject({ allocated: true, permission: 'ok', echoed: 5 });

  // To any other address: refused (403 Forbidden IP), nothing relayed. The peer there is up and
  // reachable from the server (it is the open network's machine): only the relay's rules stop it.
  expect(relay(OPEN_CLIENT_IP)).toMatchObject({ allocated: true, permission: 403, echoed: 0 });
  expect(relay(OPEN_CLIENT_IP, { tls: true })).toMatchObject({ allocated: true, permission: 403, echoed: 0 });
  // Nor to the server's own loopback (where its other services may listen).
  expect(relay('127.0.0.1')).toMatchObject({ allocated: true, permission: 403 });

  // Credentials whose time is up are refused at once.
  expect(relay(SERVER_IP, { ageMs: 3600_000 })).toMatchObject({ allocated: false, error: 'allocate refused: 401' });
});
