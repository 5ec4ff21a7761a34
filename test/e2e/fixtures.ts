import { test as base, expect, type Browser, type Page } from '@playwright/test';
import type { Parley } from '../../src/app.ts';
import { startTestServer } from '../helpers/server.ts';

export const SCREENSHOTS = 'test-results/screenshots';

type Fixtures = { newRoom: () => Promise<string> };
type WorkerFixtures = { server: Parley };

export const test = base.extend<Fixtures, WorkerFixtures>({
  server: [
    async ({}, use) => {
      const server = await startTestServer({ workers: 1, emptyRoomGraceMs: 1000 });
      await use(server);
      await server.close();
    },
    { scope: 'worker' },
  ],
  newRoom: async ({ server }, use) => {
    await use(async () => {
      const res = await fetch(`${server.url}/rooms`, { method: 'POST', redirect: 'manual' });
      const html = await res.text();
      const roomId = /\/r\/([A-Za-z0-9_-]+)/.exec(html)?.[1];
      if (!roomId) throw new Error('no room id in create response');
      return roomId;
    });
  },
});

export { expect };

/** Opens the room page in a fresh context and joins under `name`. */
export async function joinAs(browser: Browser, url: string, name: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport, permissions: ['camera', 'microphone'] });
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.log(`[${name}] console error: ${msg.text()}`);
  });
  await page.goto(url);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join call' }).click();
  await expect(page.locator('.status-dot.is-connected')).toBeVisible();
  return page;
}

/** Remote tiles whose <video> is really playing: frames decoded and rising, non-zero size. */
export async function playingRemoteVideos(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const videos = [...document.querySelectorAll<HTMLVideoElement>('.tile:not(.is-local) video')];
    const before = videos.map((v) => v.getVideoPlaybackQuality().totalVideoFrames);
    await new Promise((r) => setTimeout(r, 700));
    return videos.filter((v, i) => v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > before[i]!).length;
  });
}
