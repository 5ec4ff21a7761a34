import type { Page } from '@playwright/test';
import { cameraTile, expect, expectPlaying, screenshot, test } from './fixtures.ts';

test('mic mute and camera off show on the others’ tiles, and clear again', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice Smith');
  const bob = await people.join(roomId, 'Bob');
  const carol = await people.join(roomId, 'Carol');
  const others = [bob, carol];
  await expectPlaying(others, 2);
  const aliceTile = (page: Page) => cameraTile(page, 'Alice Smith');
  for (const page of others) {
    await expect(aliceTile(page).getByRole('img', { name: 'Microphone muted' })).toBeHidden();
    await expect(aliceTile(page).getByRole('img', { name: 'Camera off' })).toBeHidden();
  }

  await alice.getByRole('button', { name: 'Microphone', exact: true }).click();
  await expect(alice.getByRole('button', { name: 'Microphone', exact: true })).toHaveAttribute('aria-pressed', 'false');
  for (const page of others) await expect(aliceTile(page).getByRole('img', { name: 'Microphone muted' })).toBeVisible();

  await alice.getByRole('button', { name: 'Camera', exact: true }).click();
  for (const page of others) {
    await expect(aliceTile(page).getByRole('img', { name: 'Camera off' })).toBeVisible();
    await expect(aliceTile(page).locator('.tile-avatar')).toHaveText('AS');
    await expect(aliceTile(page).locator('video')).toBeHidden();
  }
  await expectPlaying(others, 1);
  // Her own tile says the same.
  await expect(cameraTile(alice, 'Alice Smith (you)').locator('.tile-avatar')).toBeVisible();
  // Someone who joins now learns the muted state too (getProducers, then producerPaused).
  const dave = await people.join(roomId, 'Dave');
  await expect(aliceTile(dave).getByRole('img', { name: 'Microphone muted' })).toBeVisible();
  await expect(aliceTile(dave).getByRole('img', { name: 'Camera off' })).toBeVisible();
  others.push(dave);

  await alice.getByRole('button', { name: 'Microphone', exact: true }).click();
  await alice.getByRole('button', { name: 'Camera', exact: true }).click();
  for (const page of others) {
    await expect(aliceTile(page).getByRole('img', { name: 'Microphone muted' })).toBeHidden();
    await expect(aliceTile(page).getByRole('img', { name: 'Camera off' })).toBeHidden();
    await expect(aliceTile(page).locator('.tile-avatar')).toBeHidden();
  }
  await expectPlaying(others, 3);
});

test('a screen share takes the spotlight on the others, and stopping it restores the grid', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob');
  await expectPlaying([alice, bob], 1);
  await expect(bob.locator('main.call')).toHaveClass(/layout-grid/);

  await alice.getByRole('button', { name: 'Share screen' }).click();
  await expect(alice.getByRole('button', { name: 'Share screen' })).toHaveAttribute('aria-pressed', 'true');
  const screen = bob.getByRole('article', { name: "Alice's screen" });
  await expect(bob.locator('main.call')).toHaveClass(/layout-spotlight/);
  await expect(bob.locator('.stage-main .tile')).toHaveCount(1);
  await expect(bob.locator('.stage-main').getByRole('article', { name: "Alice's screen" })).toBeVisible();
  await expect(screen.getByText('SCREEN', { exact: true })).toBeVisible();
  await expect(bob.locator('.stage-strip .tile')).toHaveCount(2);
  await expect(bob.getByRole('button', { name: 'Spotlight layout' })).toHaveAttribute('aria-pressed', 'true');
  await expectPlaying([bob], 2); // the screen and Alice's camera
  await screenshot(bob, 'screen-share-spotlight');

  await alice.getByRole('button', { name: 'Share screen' }).click();
  await expect(screen).toHaveCount(0);
  await expect(bob.locator('main.call')).toHaveClass(/layout-grid/);
  await expect(bob.locator('.stage-main .tile')).toHaveCount(2);
  await expect(alice.locator('main.call')).toHaveClass(/layout-grid/);
  await expectPlaying([bob], 1);
});
