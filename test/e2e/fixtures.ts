import { test as base, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import type { Parley } from '../../src/app.ts';
import { startTestServer } from '../helpers/server.ts';

export const SCREENSHOTS = 'test-results/screenshots';

export interface OpenOptions {
  viewport?: { width: number; height: number };
  /** Grant camera and microphone to the context (default true). */
  grantMedia?: boolean;
  /** Runs in the page before its own scripts, e.g. to make getUserMedia fail. */
  initScript?: () => void;
}

/** Pages in fresh browser contexts, closed when the test ends. */
export interface People {
  /** Opens `path` (on the test server) in a new context, without joining. */
  open(path: string, options?: OpenOptions): Promise<Page>;
  /** Opens the room and joins it under `name`; resolves once connected. */
  join(roomId: string, name: string, options?: OpenOptions): Promise<Page>;
  /** Console errors, uncaught page errors and CSP violations seen on a page so far. */
  problems(page: Page): Promise<string[]>;
}

type Fixtures = { newRoom: () => Promise<string>; people: People };
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
  people: async ({ browser, server }, use) => {
    const contexts: BrowserContext[] = [];
    const seen = new Map<Page, string[]>();
    const open = async (path: string, options: OpenOptions = {}) => {
      const context = await newContext(browser, options);
      contexts.push(context);
      const page = await context.newPage();
      seen.set(page, watchProblems(page));
      await page.goto(`${server.url}${path}`);
      return page;
    };
    await use({
      open,
      async join(roomId, name, options) {
        const page = await open(`/r/${roomId}`, options);
        await page.getByLabel('Your name').fill(name);
        await page.getByRole('button', { name: 'Join call' }).click();
        await expect(page.locator('.status-dot.is-connected')).toBeVisible();
        return page;
      },
      async problems(page) {
        const violations = await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
        return [...(seen.get(page) ?? []), ...violations];
      },
    });
    await Promise.all(contexts.map((context) => context.close()));
  },
});

export { expect };

async function newContext(browser: Browser, options: OpenOptions): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    permissions: options.grantMedia === false ? [] : ['camera', 'microphone'],
  });
  // Init scripts are injected by the browser, so the page's CSP does not apply to them.
  await context.addInitScript(() => {
    const list: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = list;
    document.addEventListener('securitypolicyviolation', (e) => list.push(`CSP ${e.violatedDirective}: ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
  });
  if (options.initScript) await context.addInitScript(options.initScript);
  return context;
}

/** Records console errors and uncaught exceptions (and echoes them, which helps when a test fails). */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    problems.push(`console: ${msg.text()}`);
    // Error pages log their own HTTP status; that is expected, not worth echoing.
    if (!/^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) console.log(`[${page.url()}] console error: ${msg.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}

/** The local participant's id, as the server knows it. */
export function userIdOf(page: Page): Promise<string> {
  return page.evaluate(() => (window as any).parley.state.localUserId);
}

/** The page's current signaling socket id (undefined while disconnected). */
export function socketIdOf(page: Page): Promise<string> {
  return page.evaluate(() => (window as any).parley.socketId());
}

/** The tile showing `name`'s camera (remote tiles are labelled by name, the local one "name (you)"). */
export function cameraTile(page: Page, name: string) {
  return page.getByRole('article', { name, exact: true });
}

/** Visible <video>s matching `selector` that really play: non-zero size, frames decoded and rising. */
async function playingVideos(page: Page, selector: string): Promise<{ playing: number; visible: number }> {
  return page.evaluate(async (selector) => {
    const videos = [...document.querySelectorAll<HTMLVideoElement>(selector)].filter((v) => v.checkVisibility());
    const before = videos.map((v) => v.getVideoPlaybackQuality().totalVideoFrames);
    await new Promise((r) => setTimeout(r, 700));
    const playing = videos.filter((v, i) => v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > before[i]!).length;
    return { playing, visible: videos.length };
  }, selector);
}

/** How many remote tiles show playing video. */
export async function playingRemoteVideos(page: Page): Promise<number> {
  return (await playingVideos(page, '.tile:not(.is-local) video')).playing;
}

/** Waits until each page plays exactly `count` remote videos. */
export async function expectPlaying(pages: Page[], count: number): Promise<void> {
  for (const page of pages) await expect.poll(() => playingRemoteVideos(page), { timeout: 20_000 }).toBe(count);
}

/** A screenshot with every visible video showing frames (a freshly moved tile takes a moment), and no hover controls. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await expect.poll(async () => {
    const { playing, visible } = await playingVideos(page, '.tile video');
    return playing === visible;
  }).toBe(true);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png` });
}
