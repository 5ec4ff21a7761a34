import type { Browser, BrowserContext, Page } from '@playwright/test';
import type { Parley } from '../../src/app.ts';
import { freePortRange } from '../helpers/ports.ts';
import { startRedis } from '../helpers/redis.ts';
import { startTestServer } from '../helpers/server.ts';
import { makeTestCertificate } from '../helpers/tls.ts';
import { expect, expectPlaying, test } from './fixtures.ts';

/** Joins `name` to `roomId` on any server (these tests run their own), in a fresh context. */
async function joinAt(browser: Browser, contexts: BrowserContext[], baseUrl: string, roomId: string, name: string): Promise<Page> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'], ignoreHTTPSErrors: true, viewport: { width: 960, height: 640 } });
  contexts.push(context);
  await context.addInitScript(() => {
    const list: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = list;
    document.addEventListener('securitypolicyviolation', (e) => list.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    throw new Error(`unexpected dialog: ${dialog.message()}`);
  });
  await page.goto(`${baseUrl}/r/${roomId}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join call' }).click();
  await expect(page.locator('.status-dot.is-connected')).toBeVisible();
  return page;
}

async function mintRoom(server: Parley): Promise<string> {
  const res = await fetch(`${server.url}/rooms`, { method: 'POST', headers: { 'hx-request': 'true' } });
  return /\/r\/([A-Za-z0-9_-]+)/.exec(await res.text())![1]!;
}

let contexts: BrowserContext[] = [];
test.afterEach(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  contexts = [];
});

test('a media worker killed mid-call is replaced; its call recovers by itself, the other room is untouched', async ({ browser }) => {
  const server = await startTestServer({ workers: 2, emptyRoomGraceMs: 1000 });
  try {
    const [doomedRoom, safeRoom] = [await mintRoom(server), await mintRoom(server)];
    const doomed = [await joinAt(browser, contexts, server.url, doomedRoom, 'Ann'), await joinAt(browser, contexts, server.url, doomedRoom, 'Ben')];
    const safe = [await joinAt(browser, contexts, server.url, safeRoom, 'Cy'), await joinAt(browser, contexts, server.url, safeRoom, 'Di')];
    await expectPlaying([...doomed, ...safe], 1);
    const doomedWorker = server.registry.get(doomedRoom)!.mediaWorker;
    expect(server.registry.get(safeRoom)!.mediaWorker).not.toBe(doomedWorker);
    const safeRouter = server.registry.get(safeRoom)!.router;

    process.kill(doomedWorker.worker.pid, 'SIGKILL');

    await expect.poll(() => server.pool.healthy, { timeout: 10_000 }).toBe(true);
    // Both participants come back into a fresh room on their own, and see each other again within seconds.
    await expect.poll(() => server.registry.get(doomedRoom)?.peers.size ?? 0, { timeout: 15_000 }).toBe(2);
    await expectPlaying(doomed, 1);
    for (const page of doomed) await expect(page.locator('.tile')).toHaveCount(2);
    // The other call never noticed.
    expect(server.registry.get(safeRoom)!.router).toBe(safeRouter);
    await expectPlaying(safe, 1);
  } finally {
    await server.close();
  }
});

test('the server process restarts: clients reconnect by themselves and the call resumes', async ({ browser }) => {
  const port = await freePortRange(1);
  const rtcPort = await freePortRange(1);
  // With Redis the minted room outlives the process (without it, a restart forgets every room).
  const redis = await startRedis();
  const env = { PORT: String(port), RTC_PORT: String(rtcPort), REDIS_URL: redis.url };
  let server = await startTestServer({ env });
  try {
    const roomId = await mintRoom(server);
    const pages = [await joinAt(browser, contexts, server.url, roomId, 'Eve'), await joinAt(browser, contexts, server.url, roomId, 'Fay')];
    await expectPlaying(pages, 1);
    await server.close();
    for (const page of pages) await expect(page.locator('.status-dot.is-connected')).toHaveCount(0);
    server = await startTestServer({ env });
    for (const page of pages) await expect(page.locator('.status-dot.is-connected')).toBeVisible({ timeout: 20_000 });
    await expectPlaying(pages, 1);
    for (const page of pages) await expect(page.locator('.tile')).toHaveCount(2);
  } finally {
    await server.close();
    await redis.stop();
  }
});

test('hostile display names render as inert text everywhere', async ({ browser, server }) => {
  const roomId = await mintRoom(server);
  // Two hostile guests at a time keep the browser load small; each name fits the 40-character limit.
  const names = [['<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>'], ['JaVaScRiPt:alert(1)', '<b hx-get="/rooms" hx-trigger=load>x</b>']];
  const watcher = await joinAt(browser, contexts, server.url, roomId, 'Watcher');
  for (const pair of names) {
    const guests = [];
    for (const name of pair) guests.push(await joinAt(browser, contexts, server.url, roomId, name));
    for (const name of pair) await expect(watcher.getByRole('article', { name, exact: true })).toBeVisible();
    for (const name of pair) await expect(watcher.locator('.tile-name').filter({ hasText: name })).toHaveText(name);
    await expect(watcher.locator('main img, main svg[onload], main b[hx-get], main a[href^="javascript" i]')).toHaveCount(0);
    for (const guest of guests) await guest.context().close();
  }
  // Nothing the names contain became markup.
  await expect(watcher.locator('main img, main svg[onload], main b[hx-get], main a[href^="javascript" i]')).toHaveCount(0);
  expect(await watcher.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
});

test('TLS mode: the call works over HTTPS with a test certificate', async ({ browser }) => {
  const { cert, key } = makeTestCertificate();
  const server = await startTestServer({ env: { TLS_CERT: cert, TLS_KEY: key } });
  try {
    expect(server.url).toMatch(/^https:/);
    const roomId = await mintRoom(server).catch(async () => {
      // Node's fetch refuses the self-signed certificate; mint through the store instead.
      const id = `tls${Date.now()}`;
      await server.store.registerRoom(id);
      return id;
    });
    const pages = [await joinAt(browser, contexts, server.url, roomId, 'Gus'), await joinAt(browser, contexts, server.url, roomId, 'Hal')];
    for (const page of pages) expect(await page.evaluate(() => window.isSecureContext && location.protocol)).toBe('https:');
    await expectPlaying(pages, 1);
  } finally {
    await server.close();
  }
});
