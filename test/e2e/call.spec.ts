import { expect, expectPlaying, screenshot, test } from './fixtures.ts';

test('three participants see and hear each other', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob');
  const carol = await people.join(roomId, 'Carol');
  for (const page of [alice, bob, carol]) await expect(page.locator('.tile')).toHaveCount(3);
  await expectPlaying([alice, bob, carol], 2);
  for (const page of [alice, bob, carol]) {
    const audioPackets = async () => {
      const stats = await page.evaluate(() => (window as any).parley.stats());
      return stats.consumers.filter((c: any) => c.kind === 'audio' && c.packetsReceived > 0).map((c: any) => c.packetsReceived);
    };
    await expect.poll(async () => (await audioPackets()).length).toBe(2);
    const first = await audioPackets();
    await expect.poll(async () => (await audioPackets()).every((n: number, i: number) => n > first[i]!)).toBe(true);
    // Each remote microphone plays from an element of the page, and it is actually playing.
    const sinks = page.locator('#remote-audio audio[data-source="mic"]');
    await expect(sinks).toHaveCount(2);
    await expect.poll(() => sinks.evaluateAll((els) => els.filter((el) => !(el as HTMLAudioElement).paused && (el as HTMLAudioElement).srcObject).length)).toBe(2);
  }
  await screenshot(alice, 'grid-3');
});

test('a whole call runs without console errors or CSP violations', async ({ people }) => {
  // From the home page, through htmx's room creation, into the call and every control.
  const alice = await people.open('/');
  await alice.getByRole('button', { name: 'New call' }).click();
  await alice.getByRole('link', { name: 'Join the call' }).click();
  const roomId = /\/r\/([\w-]+)/.exec(alice.url())![1]!;
  await alice.getByLabel('Your name').fill('Alice');
  await alice.getByRole('button', { name: 'Join call' }).click();
  const bob = await people.join(roomId, 'Bob');
  await expectPlaying([alice, bob], 1);

  const button = (name: string) => alice.getByRole('button', { name, exact: true });
  for (const control of ['Microphone', 'Camera']) {
    await button(control).click();
    await expect(button(control)).toHaveAttribute('aria-pressed', 'false');
    await button(control).click();
    await expect(button(control)).toHaveAttribute('aria-pressed', 'true');
  }
  await button('Spotlight layout').click();
  await expect(button('Spotlight layout')).toHaveAttribute('aria-pressed', 'true');
  await button('Share screen').click();
  await expect(button('Share screen')).toHaveAttribute('aria-pressed', 'true');
  await expect(bob.locator('.tile.is-screen .badge-screen')).toBeVisible();
  await bob.getByRole('button', { name: 'Pin Alice', exact: true }).click();
  await expect(bob.getByRole('button', { name: 'Unpin Alice', exact: true })).toHaveAttribute('aria-pressed', 'true');
  expect(await people.problems(alice)).toEqual([]);
  await alice.getByRole('button', { name: 'End call' }).click();
  await expect(alice).toHaveURL(/\/left$/);
  await expect(bob.locator('.tile')).toHaveCount(1);

  // Console errors (which include CSP reports) are kept across Alice's navigation to the "left" page.
  expect(await people.problems(alice)).toEqual([]);
  expect(await people.problems(bob)).toEqual([]);
});
