/**
 * Big calls: who speaks is highlighted for everyone, video that is not on screen is paused on the
 * server (and comes back with frames when shown), the grid pages at phone width with only the current
 * page's video received, and the camera is sent as simulcast layers.
 */
import type { Page } from '@playwright/test';
import type { Parley } from '../../src/app.ts';
import { joinWithTransports, produceCamera, type JoinedClient } from '../helpers/call.ts';
import { cameraTile, expect, expectPlaying, screenshot, test, userIdOf } from './fixtures.ts';

/** The server's consumers of `viewer`, by the userId whose producer each consumes. */
function serverConsumers(server: Parley, roomId: string, viewerId: string) {
  const peer = server.registry.get(roomId)?.peers.get(viewerId);
  return [...(peer?.consumers.values() ?? [])].map((c) => ({ userId: c.appData.userId as string, kind: c.kind, paused: c.paused }));
}

async function setMic(page: Page, on: boolean) {
  const mic = page.getByRole('button', { name: 'Microphone', exact: true });
  if ((await mic.getAttribute('aria-pressed')) !== String(on)) await mic.click();
  await expect(mic).toHaveAttribute('aria-pressed', String(on));
}

test('the active speaker is highlighted for the others, and the highlight follows the speaker', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob');
  const carol = await people.join(roomId, 'Carol');
  await expectPlaying([alice, bob, carol], 2);

  // Only Alice's (fake, beeping) microphone is on.
  await setMic(bob, false);
  await setMic(carol, false);
  for (const page of [bob, carol]) await expect(cameraTile(page, 'Alice')).toHaveClass(/is-speaking/, { timeout: 10_000 });
  await expect(cameraTile(alice, 'Alice (you)')).toHaveClass(/is-speaking/);
  await expect(cameraTile(carol, 'Bob')).not.toHaveClass(/is-speaking/);

  // Swap: Bob talks, Alice stops.
  await setMic(bob, true);
  await setMic(alice, false);
  for (const page of [alice, carol]) await expect(cameraTile(page, 'Bob')).toHaveClass(/is-speaking/, { timeout: 10_000 });
  await expect(cameraTile(carol, 'Alice')).not.toHaveClass(/is-speaking/);

  // In spotlight with nothing pinned, the main tile follows the speaker.
  await carol.getByRole('button', { name: 'Spotlight layout' }).click();
  await expect(carol.locator('.stage-main .tile')).toHaveAccessibleName('Bob', { timeout: 10_000 });
  await screenshot(carol, 'active-speaker');
});

test("a tile that is not shown has its consumer paused on the server, and plays again when shown", async ({ people, newRoom, server }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob');
  await expectPlaying([bob], 1);
  const [aliceId, bobId] = [await userIdOf(alice), await userIdOf(bob)];
  const aliceVideo = () => serverConsumers(server, roomId, bobId).find((c) => c.userId === aliceId && c.kind === 'video');
  expect(aliceVideo()?.paused).toBe(false);

  // Bob's tab goes to the background (as the browser reports it): no video for him.
  const setHidden = (hidden: boolean) =>
    bob.evaluate((hidden) => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
  await setHidden(true);
  await expect.poll(() => aliceVideo()?.paused).toBe(true);
  const audio = serverConsumers(server, roomId, bobId).find((c) => c.userId === aliceId && c.kind === 'audio');
  expect(audio?.paused, 'sound goes on in the background').toBe(false);

  // Back in front: resumed on the server, and frames are decoded again.
  const framesNow = await bob.evaluate(async () => ((await (window as any).parley.stats()).consumers.find((c: any) => c.kind === 'video')?.framesDecoded ?? 0) as number);
  await setHidden(false);
  await expect.poll(() => aliceVideo()?.paused).toBe(false);
  await expect
    .poll(async () => bob.evaluate(async () => ((await (window as any).parley.stats()).consumers.find((c: any) => c.kind === 'video')?.framesDecoded ?? 0) as number), { timeout: 20_000 })
    .toBeGreaterThan(framesNow + 10);
  await expectPlaying([bob], 1);
});

test('the camera is sent as simulcast layers, and a small tile gets a low one', async ({ people, newRoom, server }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob', { viewport: { width: 640, height: 480 } });
  await expectPlaying([bob], 1);
  const aliceId = await userIdOf(alice);
  const producer = [...server.registry.get(roomId)!.peers.get(aliceId)!.producers.values()].find((p) => p.kind === 'video')!;
  expect(producer.type).toBe('simulcast');
  expect(producer.rtpParameters.encodings?.length).toBe(3);
  // Bob's two small grid tiles (≈ 300 px wide) need no more than the 360p layer.
  const bobId = await userIdOf(bob);
  const consumer = [...server.registry.get(roomId)!.peers.get(bobId)!.consumers.values()].find((c) => c.kind === 'video')!;
  await expect.poll(() => consumer.preferredLayers?.spatialLayer, { timeout: 20_000 }).toBeLessThan(2);
  // The page hears which layer it gets.
  await expect.poll(async () => bob.evaluate(async () => (await (window as any).parley.stats()).consumers.find((c: any) => c.kind === 'video')?.spatialLayer), { timeout: 20_000 }).toBeLessThan(2);
});

test('at phone width a big grid pages, and only the current page’s video is received', async ({ people, newRoom, server }) => {
  const roomId = await newRoom();
  const bots: JoinedClient[] = [];
  try {
    for (let i = 0; i < 14; i++) {
      const bot = await joinWithTransports(server, roomId, `Guest ${String(i + 1).padStart(2, '0')}`);
      await produceCamera(bot);
      bots.push(bot);
    }
    const phone = await people.join(roomId, 'Phone', { viewport: { width: 390, height: 844 } });
    const phoneId = await userIdOf(phone);
    await expect(phone.locator('.tile')).not.toHaveCount(0);
    const status = phone.locator('.pager [role="status"]');
    await expect(status).toHaveText(/^Page 1 of \d+$/);
    const pages = Number(/of (\d+)/.exec((await status.textContent()) ?? '')![1]);
    expect(pages).toBeGreaterThan(1);
    const previous = phone.getByRole('button', { name: 'Previous page' });
    const next = phone.getByRole('button', { name: 'Next page' });
    await expect(previous).toBeDisabled();

    // Tiles stay readable: none narrower than 160 px.
    const widths = await phone.locator('.stage-main .tile').evaluateAll((tiles) => tiles.map((t) => t.getBoundingClientRect().width));
    expect(Math.min(...widths)).toBeGreaterThanOrEqual(160);
    expect(widths.length).toBeLessThan(15);
    // (The bots send no video: their tiles stay dark.)
    await phone.screenshot({ path: 'test-results/screenshots/phone-grid-paged.png' });

    const shownUsers = () => phone.locator('.stage-main .tile').evaluateAll((tiles) => tiles.map((t) => (t as HTMLElement).dataset.userId!));
    const expectOnlyShownPlaying = async () => {
      const shown = new Set(await shownUsers());
      await expect
        .poll(() => {
          const video = serverConsumers(server, roomId, phoneId).filter((c) => c.kind === 'video');
          return video.length === 14 && video.every((c) => c.paused === !shown.has(c.userId));
        }, { timeout: 15_000, message: 'video consumers paused exactly for the tiles not on this page' })
        .toBe(true);
    };
    await expectOnlyShownPlaying();

    await next.click();
    await expect(status).toHaveText(`Page 2 of ${pages}`);
    await expect(previous).toBeEnabled();
    await expectOnlyShownPlaying();
    await previous.click();
    await expect(status).toHaveText(`Page 1 of ${pages}`);
    await expectOnlyShownPlaying();
  } finally {
    for (const bot of bots) bot.close();
  }
});
