/**
 * Real networks: the server runs in its own network namespace behind an nftables firewall, Chromium in
 * another, joined by a veth pair (see netlab.ts). Each test starts a fresh server with its own firewall.
 */
import fs from 'node:fs';
import { CHROMIUM_ARGS } from '../helpers/chromium.ts';
import { test as base, expect, chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { NetLab, ORIGIN, RTC_PORT, SERVER_IP, skipReason, type RunningServer } from './netlab.ts';

const SCREENSHOTS = 'test-results/screenshots';
const WRONG_IP = '10.77.0.99';

interface OpenOptions {
  browser?: Browser;
  userAgent?: string;
}

type WorkerFixtures = { lab: NetLab; netBrowser: Browser };
type TestFixtures = {
  udp: boolean;
  announcedIp: string;
  server: RunningServer;
  /** Opens `path` on the server in a fresh context (camera and microphone granted). */
  open: (path: string, options?: OpenOptions) => Promise<Page>;
  /** Console errors, page errors and CSP violations seen on a page so far. */
  problems: (page: Page) => Promise<string[]>;
};

const test = base.extend<TestFixtures, WorkerFixtures>({
  lab: [
    async ({}, use) => {
      const lab = new NetLab();
      lab.create();
      try {
        await use(lab);
      } finally {
        await lab.destroy();
      }
    },
    { scope: 'worker' },
  ],
  netBrowser: [
    async ({ lab }, use) => {
      // Plain HTTP on 10.77.0.1 is not a secure context; this flag lets getUserMedia work as on HTTPS.
      const browser = await chromium.launch({ executablePath: lab.chromiumWrapper(), args: [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=${ORIGIN}`] });
      try {
        await use(browser);
      } finally {
        await browser.close();
      }
    },
    { scope: 'worker' },
  ],
  udp: [true, { option: true }],
  announcedIp: [SERVER_IP, { option: true }],
  server: async ({ lab, udp, announcedIp }, use, testInfo) => {
    lab.firewall({ udp });
    const server = await lab.startServer({ announcedIp });
    try {
      await use(server);
    } finally {
      await server.stop();
      if (testInfo.status !== testInfo.expectedStatus) await testInfo.attach('server.log', { body: server.log(), contentType: 'text/plain' });
    }
  },
  problems: async ({}, use) => {
    await use(async (page) => {
      const seen = (page as unknown as { problems?: string[] }).problems ?? [];
      const violations = await page.evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations ?? []);
      return [...seen, ...violations];
    });
  },
  open: async ({ netBrowser, server }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async (path, options = {}) => {
      const context = await (options.browser ?? netBrowser).newContext({ viewport: { width: 1100, height: 800 }, permissions: ['camera', 'microphone'], userAgent: options.userAgent });
      contexts.push(context);
      await context.addInitScript(() => {
        const list: string[] = [];
        (window as unknown as { cspViolations: string[] }).cspViolations = list;
        document.addEventListener('securitypolicyviolation', (e) => list.push(`CSP ${e.violatedDirective}: ${e.blockedURI}`));
      });
      const page = await context.newPage();
      const problems: string[] = [];
      (page as unknown as { problems: string[] }).problems = problems;
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      await page.goto(`${server.origin}${path}`);
      return page;
    });
    await Promise.all(contexts.map((context) => context.close()));
  },
});

test.skip(skipReason() !== undefined, skipReason());

/** Mints a room the way the home page does (POST /rooms), from inside the client namespace. */
async function newRoom(page: Page): Promise<string> {
  const html = await page.evaluate(async () => (await fetch('/rooms', { method: 'POST' })).text());
  const roomId = /\/r\/([A-Za-z0-9_-]+)/.exec(html)?.[1];
  if (!roomId) throw new Error('no room id in the POST /rooms response');
  return roomId;
}

async function join(page: Page, roomId: string, name: string): Promise<void> {
  await page.goto(`${ORIGIN}/r/${roomId}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join call' }).click();
  await expect(page.locator('.status-dot.is-connected')).toBeVisible();
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

/** Two people in one room; resolves once each plays the other's video. */
async function callBetweenTwo(open: TestFixtures['open']): Promise<[Page, Page]> {
  const alice = await open('/');
  const roomId = await newRoom(alice);
  const bob = await open('/');
  await Promise.all([join(alice, roomId, 'Alice'), join(bob, roomId, 'Bob')]);
  for (const page of [alice, bob]) await expect.poll(() => playingRemoteVideos(page), { timeout: 20_000 }).toBe(1);
  return [alice, bob];
}

/** Waits for the connection check to finish; returns its status region. */
async function checkResult(page: Page) {
  await expect(page.getByRole('heading', { level: 1, name: 'Connection check' })).toBeVisible();
  const status = page.getByRole('status');
  await expect(status).toHaveAttribute('data-outcome', /^(udp|tcp|relay|connected|none|error)$/, { timeout: 25_000 });
  return status;
}

function facts(page: Page, term: string) {
  return page.locator('.check-facts > div').filter({ has: page.locator('dt', { hasText: term }) }).locator('dd');
}

async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/connectivity-${name}.png`, fullPage: true });
}

test.describe('UDP open', () => {
  test('the call connects over UDP and the check says "UDP ok"', async ({ open, problems, lab }) => {
    const [alice, bob] = await callBetweenTwo(open);
    expect(lab.counter('media-udp'), 'UDP packets accepted on the media port').toBeGreaterThan(0);

    // The home page links to the check.
    const page = await open('/');
    await screenshot(page, 'home-link');
    await page.getByRole('link', { name: 'Check your connection' }).click();
    await expect(page).toHaveURL(`${ORIGIN}/connectivity`);
    const status = await checkResult(page);
    await expect(status).toHaveAttribute('data-outcome', 'udp');
    await expect(status).toContainText('UDP ok');
    await expect(facts(page, 'Connected to')).toHaveText(`UDP ${SERVER_IP}:${RTC_PORT}`);
    await expect(facts(page, 'The server announces').getByRole('listitem')).toHaveText([`UDP ${SERVER_IP}:${RTC_PORT}`, `TCP ${SERVER_IP}:${RTC_PORT}`]);
    await expect(page.getByRole('heading', { name: 'What to change' })).toBeHidden();
    await screenshot(page, 'udp');

    // Again, on request: same answer, and the button is usable again afterwards.
    const again = page.getByRole('button', { name: 'Run the check again' });
    await page.evaluate(() => ((window as any).firstResult = (window as any).connectivityResult));
    await again.click();
    await expect.poll(() => page.evaluate(() => (window as any).connectivityResult !== (window as any).firstResult)).toBe(true);
    await expect(status).toHaveAttribute('data-outcome', 'udp');
    await expect(again).toBeEnabled();
    await expect(again).toBeFocused();

    for (const p of [page, alice, bob]) expect(await problems(p)).toEqual([]);
  });
});

test.describe('UDP to the media port dropped', () => {
  test.use({ udp: false });

  test('the call falls back to TCP and the check says "TCP only"', async ({ open, problems, lab }) => {
    const [alice, bob] = await callBetweenTwo(open);
    expect(lab.counter('media-udp'), 'UDP packets dropped on the media port').toBeGreaterThan(0);
    expect(lab.counter('media-tcp'), 'TCP connections accepted on the media port').toBeGreaterThan(0);

    const page = await open('/connectivity');
    const status = await checkResult(page);
    await expect(status).toHaveAttribute('data-outcome', 'tcp');
    await expect(status).toContainText('TCP only');
    await expect(facts(page, 'Connected to')).toHaveText(`TCP ${SERVER_IP}:${RTC_PORT}`);
    const advice = page.getByRole('region', { name: 'What to change' });
    await expect(advice).toContainText(`UDP ${RTC_PORT} is blocked: open UDP ports RTC_PORT..RTC_PORT+WORKERS-1`);
    await screenshot(page, 'tcp');

    for (const p of [page, alice, bob]) expect(await problems(p)).toEqual([]);
  });
});

test.describe('wrong announced address', () => {
  test.use({ announcedIp: WRONG_IP });

  test('the check says nothing got through and names ANNOUNCED_IP', async ({ open, problems }) => {
    const page = await open('/connectivity');
    const status = await checkResult(page);
    await expect(status).toHaveAttribute('data-outcome', 'none');
    await expect(status).toContainText('Nothing got through');
    await expect(status).toContainText(`${WRONG_IP}:${RTC_PORT}`);
    await expect(facts(page, 'The server announces').getByRole('listitem')).toHaveText([`UDP ${WRONG_IP}:${RTC_PORT}`, `TCP ${WRONG_IP}:${RTC_PORT}`]);
    await expect(facts(page, 'Connected to')).toHaveText('No connection');
    const advice = page.getByRole('region', { name: 'What to change' });
    await expect(advice).toContainText(`The server announces ${WRONG_IP}, which your browser cannot reach (you reached this page at ${SERVER_IP}): set ANNOUNCED_IP`);
    await screenshot(page, 'unreachable');
    await page.setViewportSize({ width: 360, height: 740 });
    await screenshot(page, 'unreachable-phone');
    expect(await problems(page)).toEqual([]);
  });
});

test.describe('plain HTTP, not a secure context', () => {
  test('the check still runs and says camera and microphone need HTTPS', async ({ lab, open, problems }) => {
    const insecure = await chromium.launch({ executablePath: lab.chromiumWrapper(), args: CHROMIUM_ARGS });
    try {
      // On insecure origins navigator.userAgentData is gone, and mediasoup-client does not recognise
      // headless Chromium's "HeadlessChrome/…" user agent: present the one a desktop Chrome sends.
      const userAgent = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${insecure.version()} Safari/537.36`;
      const page = await open('/connectivity', { browser: insecure, userAgent });
      expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
      const status = await checkResult(page);
      await expect(status).toHaveAttribute('data-outcome', 'udp');
      await expect(page.getByRole('region', { name: 'What to change' })).toContainText('Camera and microphone need HTTPS');
      await screenshot(page, 'insecure');
      // Chromium warns that it ignores our COOP header on an untrustworthy origin: expected here.
      expect((await problems(page)).filter((p) => !p.includes('Cross-Origin-Opener-Policy header has been ignored'))).toEqual([]);
    } finally {
      await insecure.close();
    }
  });
});
