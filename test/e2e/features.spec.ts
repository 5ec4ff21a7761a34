/**
 * The call features people expect: chat (with history for a late joiner, and hostile text kept
 * inert), raised hands in order, reactions, and a host who mutes, removes, locks the room and admits
 * or denies people waiting in the lobby; a guest cannot do any of that.
 */
import type { Page } from '@playwright/test';
import { cameraTile, expect, screenshot, test, type People } from './fixtures.ts';

/** Creates a room from the home page, as its creator does, and joins it as its host. */
async function hostJoin(people: People, name: string): Promise<{ page: Page; roomId: string }> {
  const page = await people.open('/');
  await page.getByRole('button', { name: 'New call' }).click();
  await page.getByRole('link', { name: 'Join the call' }).click();
  const roomId = /\/r\/([\w-]+)/.exec(page.url())![1]!;
  await expect.poll(() => page.evaluate(() => location.hash)).toBe('');
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join call' }).click();
  await expect(page.locator('.status-dot.is-connected')).toBeVisible();
  return { page, roomId };
}

async function say(page: Page, text: string) {
  const chat = page.getByRole('button', { name: /^Chat/ });
  if ((await chat.getAttribute('aria-pressed')) !== 'true') await chat.click();
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
}

const messages = (page: Page) => page.locator('.chat-entry .chat-text');

test('chat between three, a late joiner sees the history, and hostile text stays text', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob');
  await say(alice, 'Hello from Alice, see https://example.org/docs.');
  // Bob's panel is closed: the Chat button counts it.
  await expect(bob.getByRole('button', { name: 'Chat, 1 unread' })).toBeVisible();
  await say(bob, 'Hi Alice');
  await expect(bob.getByRole('button', { name: 'Chat', exact: true })).toBeVisible();
  const hostile = '<img src=x onerror="window.pwned=1"> <script>window.pwned=2</script> [x](javascript:alert(1)) javascript:alert(1)';
  await say(alice, hostile);
  await expect(messages(alice)).toHaveCount(3);
  await expect(messages(bob)).toHaveCount(3);

  const carol = await people.join(roomId, 'Carol');
  await carol.getByRole('button', { name: /^Chat/ }).click();
  await expect(messages(carol)).toHaveText(['Hello from Alice, see https://example.org/docs.', 'Hi Alice', hostile]);
  await expect(carol.locator('.chat-name')).toHaveText(['Alice', 'Bob', 'Alice']);
  // The address became a safe link (the sentence's full stop left out); nothing else did.
  const link = carol.locator('.chat-text a');
  await expect(link).toHaveCount(1);
  await expect(link).toHaveAttribute('href', 'https://example.org/docs');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  expect(await carol.locator('.chat-log img, .chat-log script').count()).toBe(0);
  expect(await carol.evaluate(() => (window as any).pwned)).toBeUndefined();
  await say(carol, 'Carol here');
  for (const page of [alice, bob]) await expect(messages(page).last()).toHaveText('Carol here');
  expect(await people.problems(carol)).toEqual([]);
  await screenshot(carol, 'chat-desktop');
});

test('raised hands show on tiles and in the list in the order raised; reactions show over the tile', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob');
  const carol = await people.join(roomId, 'Carol');
  await carol.getByRole('button', { name: 'Raise hand' }).click();
  await expect(carol.getByRole('button', { name: 'Raise hand' })).toHaveAttribute('aria-pressed', 'true');
  await expect(cameraTile(alice, 'Carol').getByRole('img', { name: 'Hand raised' })).toBeVisible();
  await bob.getByRole('button', { name: 'Raise hand' }).click();
  await alice.getByRole('button', { name: 'Participants' }).click();
  const rows = alice.getByRole('list', { name: 'In the call' }).getByRole('listitem');
  await expect(rows.locator('.person-name')).toHaveText(['Carol', 'Bob', 'Alice (you)'], { timeout: 10_000 });
  await carol.getByRole('button', { name: 'Raise hand' }).click();
  await expect(rows.locator('.person-name')).toHaveText(['Bob', 'Alice (you)', 'Carol']);

  await bob.getByRole('button', { name: 'Reactions' }).click();
  await bob.getByRole('button', { name: 'React with 🎉' }).click();
  await expect(cameraTile(alice, 'Bob').locator('.tile-reaction')).toHaveText('🎉');
  await expect(cameraTile(alice, 'Bob').locator('.tile-reaction')).toBeHidden({ timeout: 10_000 });
});

test('a host mutes and removes; a guest cannot; a locked room makes newcomers wait to be admitted or denied', async ({ people }) => {
  const { page: host, roomId } = await hostJoin(people, 'Hana');
  const guest = await people.join(roomId, 'Gus');
  await host.getByRole('button', { name: 'Participants' }).click();
  await expect(host.getByRole('list', { name: 'In the call' }).locator('.role-badge:visible')).toHaveText(['Host']);

  // A guest has no host controls, and the server refuses the requests anyway.
  await guest.getByRole('button', { name: 'Participants' }).click();
  await expect(guest.getByRole('button', { name: 'Remove Hana' })).toBeHidden();
  await expect(guest.getByRole('button', { name: 'Lock room' })).toBeHidden();
  const refused = await guest.evaluate(() => (window as any).parley.request('setRoomLocked', { locked: true }));
  expect(refused.code).toBe('forbidden');

  // Mute: the guest's microphone turns off on their page, the host sees it.
  await expect(guest.getByRole('button', { name: 'Microphone', exact: true })).toHaveAttribute('aria-pressed', 'true');
  await host.getByRole('button', { name: 'Mute Gus' }).click();
  await expect(guest.getByRole('button', { name: 'Microphone', exact: true })).toHaveAttribute('aria-pressed', 'false');
  await expect(cameraTile(host, 'Gus').locator('[data-indicator="mic-muted"]')).toBeVisible();
  // Ask to unmute: the guest decides.
  await host.getByRole('button', { name: 'Ask Gus to unmute' }).click();
  await guest.getByRole('dialog', { name: 'A host asks you to unmute' }).getByRole('button', { name: 'Unmute' }).click();
  await expect(guest.getByRole('button', { name: 'Microphone', exact: true })).toHaveAttribute('aria-pressed', 'true');
  await expect(cameraTile(host, 'Gus').locator('[data-indicator="mic-muted"]')).toBeHidden();

  // Lock: a newcomer waits; the host admits one and denies another.
  await host.getByRole('button', { name: 'Lock room' }).click();
  await expect(host.getByRole('button', { name: 'Lock room' })).toHaveAttribute('aria-pressed', 'true');
  const knock = await people.open(`/r/${roomId}`);
  await knock.getByLabel('Your name').fill('Kim');
  await knock.getByRole('button', { name: 'Join call' }).click();
  await expect(knock.getByText('Waiting for a host to let you in')).toBeVisible();
  await expect(host.getByRole('list', { name: 'Waiting to join' }).getByRole('listitem')).toHaveText([/Kim/]);
  await screenshot(host, 'host-lobby');
  await host.getByRole('button', { name: 'Admit Kim' }).click();
  await expect(knock.locator('.status-dot.is-connected')).toBeVisible();
  await expect(knock.locator('.tile')).toHaveCount(3);

  const nope = await people.open(`/r/${roomId}`);
  await nope.getByLabel('Your name').fill('Nils');
  await nope.getByRole('button', { name: 'Join call' }).click();
  await host.getByRole('button', { name: 'Deny Nils' }).click();
  await expect(nope.getByText('A host did not let you in')).toBeVisible();
  await expect(host.locator('.tile')).toHaveCount(3);

  // Remove: gone for the others, told why, and not back in by reconnecting.
  host.once('dialog', (dialog) => void dialog.accept());
  await host.getByRole('button', { name: 'Remove Gus' }).click();
  await expect(guest.getByText('You were removed from the call')).toBeVisible();
  await expect(host.locator('.tile')).toHaveCount(2);
});

test('the chat and participant panels at phone width', async ({ people }) => {
  const { page: host, roomId } = await hostJoin(people, 'Hana');
  const phone = await people.join(roomId, 'Pat', { viewport: { width: 390, height: 844 } });
  await say(host, 'Welcome, Pat!');
  await phone.getByRole('button', { name: /^Chat/ }).click();
  await expect(messages(phone)).toHaveText(['Welcome, Pat!']);
  await say(phone, 'Thanks!');
  await screenshot(phone, 'chat-phone');
  await phone.getByRole('button', { name: 'Close chat' }).click();
  await phone.getByRole('button', { name: 'Participants' }).click();
  await expect(phone.getByRole('list', { name: 'In the call' }).getByRole('listitem')).toHaveCount(2);
  await screenshot(phone, 'people-phone');
  await host.getByRole('button', { name: 'Participants' }).click();
  await screenshot(host, 'people-host-desktop');
});

test('keyboard shortcuts (never while typing), a help dialog, full screen tiles and connection quality', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob');
  const mic = alice.getByRole('button', { name: 'Microphone', exact: true });
  await expect(mic).toHaveAttribute('aria-pressed', 'true');
  await alice.locator('body').press('m');
  await expect(mic).toHaveAttribute('aria-pressed', 'false');
  await alice.locator('body').press('c');
  await expect(alice.getByLabel('Message', { exact: true })).toBeVisible();
  await alice.getByLabel('Message', { exact: true }).pressSequentially('mmh');
  await expect(mic).toHaveAttribute('aria-pressed', 'false');
  await expect(alice.getByLabel('Message', { exact: true })).toHaveValue('mmh');
  await alice.getByLabel('Message', { exact: true }).press('Escape');
  await alice.locator('body').click({ position: { x: 5, y: 300 } });
  await alice.locator('body').press('m');
  await expect(mic).toHaveAttribute('aria-pressed', 'true');
  await alice.locator('body').press('Shift+?');
  const help = alice.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(help).toBeVisible();
  await expect(help.locator('kbd')).toContainText(['M', 'V', 'S', 'C', 'P', 'H', 'L', '?']);
  await screenshot(alice, 'shortcuts-help');
  await alice.keyboard.press('Escape');
  await expect(help).toBeHidden();

  // Full screen for any tile.
  await cameraTile(alice, 'Bob').hover();
  await alice.getByRole('button', { name: 'Full screen: Bob' }).click();
  await expect.poll(() => alice.evaluate(() => (document.fullscreenElement as HTMLElement | null)?.getAttribute('aria-label'))).toBe('Bob');
  await alice.evaluate(() => document.exitFullscreen());

  // Each remote tile says how well its video arrives (from the server's scores).
  await expect(cameraTile(bob, 'Alice').getByRole('img', { name: /^Connection (good|fair|poor)$/ })).toBeVisible({ timeout: 20_000 });
});
