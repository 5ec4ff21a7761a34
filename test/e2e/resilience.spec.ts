import type { Page } from '@playwright/test';
import type { Parley } from '../../src/app.ts';
import { cameraTile, expect, expectPlaying, socketIdOf, test, userIdOf } from './fixtures.ts';

test('End call removes the leaver at once and lands on a page with a Rejoin link', async ({ people, newRoom, server }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob');
  await expect(cameraTile(bob, 'Alice')).toBeVisible();

  await alice.getByRole('button', { name: 'End call' }).click();
  await expect(cameraTile(bob, 'Alice')).toHaveCount(0, { timeout: 1000 });
  await expect(bob.locator('.tile')).toHaveCount(1);
  await expect(alice).toHaveURL(`${server.url}/r/${roomId}/left`);
  await expect(alice.getByRole('heading', { name: 'You left the call' })).toBeVisible();
  const rejoin = alice.getByRole('link', { name: 'Rejoin' });
  await expect(rejoin).toHaveAttribute('href', `/r/${roomId}`);

  // Rejoining works, with the name remembered.
  await rejoin.click();
  await expect(alice.getByLabel('Your name')).toHaveValue('Alice');
  await alice.getByRole('button', { name: 'Join call' }).click();
  await expect(cameraTile(bob, 'Alice')).toBeVisible();
  await expectPlaying([alice, bob], 1);
});

/** Video and audio consumers a page holds, by kind: after a rejoin there must be exactly one of each per remote. */
async function consumerKinds(page: Page): Promise<string[]> {
  const stats = await page.evaluate(() => (window as any).parley.stats());
  return stats.consumers.map((c: { kind: string }) => c.kind).sort();
}

/** Which socket the server seats the page's user under: the one from before the cut, the page's current one, or none. */
async function seatOf(server: Parley, roomId: string, page: Page, oldSocket: string): Promise<'old socket' | 'new socket' | 'none'> {
  const [userId, current] = [await userIdOf(page), await socketIdOf(page)];
  const seated = server.registry.get(roomId)?.peers.get(userId)?.socketId;
  return seated === oldSocket ? 'old socket' : seated !== undefined && seated === current ? 'new socket' : 'none';
}

async function expectRecovered(alice: Page, bob: Page): Promise<void> {
  await expect(alice.locator('.status-dot.is-connected')).toBeVisible();
  for (const page of [alice, bob]) await expect(page.locator('.tile')).toHaveCount(2);
  await expectPlaying([alice, bob], 1);
  for (const page of [alice, bob]) {
    await expect(page.locator('.tile')).toHaveCount(2);
    await expect.poll(() => consumerKinds(page)).toEqual(['audio', 'video']);
  }
  await expect(alice.locator('.notice')).toHaveCount(0);
}

test('a participant cut off by the server rejoins by itself and media flows again', async ({ people, newRoom, server }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob');
  await expectPlaying([alice, bob], 1);
  const oldSocket = await socketIdOf(alice);
  const seat = () => seatOf(server, roomId, alice, oldSocket);

  server.signaling.io.sockets.sockets.get(oldSocket)!.disconnect(true);
  await expect.poll(seat).toBe('new socket');
  await expectRecovered(alice, bob);
});

test('a media path that stops answering gets an ICE restart from the browser, and media flows again', async ({ people, newRoom, server }) => {
  test.slow();
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob');
  await expectPlaying([alice, bob], 1);
  const userId = await userIdOf(alice);
  const peer = server.registry.get(roomId)!.peers.get(userId)!;
  const send = [...peer.transports.values()].find((t) => t.appData.producing)!;

  // New ICE credentials on the server side only (twice: the worker still honours the previous ones for a
  // while): Alice's connectivity checks now go unanswered, as on a network path that died. Her browser
  // sees the transport go disconnected/failed and asks for a restart.
  await send.restartIce();
  const { usernameFragment: orphaned } = await send.restartIce();
  // Well before Chromium would call the transport 'failed' (~30 s): the 'disconnected' path restarts it.
  await expect.poll(() => send.iceParameters.usernameFragment, { timeout: 20_000, message: 'Alice asked for an ICE restart' }).not.toBe(orphaned);
  await expect.poll(() => send.iceState, { timeout: 30_000 }).toMatch(/^(connected|completed)$/);
  await expectRecovered(alice, bob);
});

test('after a drop the server has not noticed yet, the rejoin takes the old seat over', async ({ people, newRoom, server }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob');
  await expectPlaying([alice, bob], 1);
  const oldSocket = await socketIdOf(alice);
  const seat = () => seatOf(server, roomId, alice, oldSocket);

  const userId = await userIdOf(alice);

  // Unbinding first makes the server skip the leave, as if the old socket had died silently: the seat stays taken.
  server.signaling.connections.get(oldSocket)!.forgetRoom();
  server.signaling.io.sockets.sockets.get(oldSocket)!.disconnect(true);
  // Read synchronously: the browser starts reconnecting at once.
  expect(server.registry.get(roomId)?.peers.get(userId)?.socketId).toBe(oldSocket);

  // Without the reclaim the rejoin would be refused ("already in this room") until the server timed the old socket out.
  await expect.poll(seat, { timeout: 15_000 }).toBe('new socket');
  await expectRecovered(alice, bob);
});

test('with camera and microphone denied, the call goes on watch-only with a clear notice', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob', {
    grantMedia: false,
    initScript: () => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    },
  });
  const notice = bob.getByRole('status').filter({ hasText: 'Access to your camera and microphone was blocked' });
  await expect(notice).toBeVisible();
  await expect(notice).toContainText('You can still watch and listen');
  await expect(bob.getByRole('button', { name: 'Microphone', exact: true })).toBeDisabled();

  // Bob still sees Alice; Alice sees Bob as an avatar, muted and camera off.
  await expectPlaying([bob], 1);
  const bobOnAlice = cameraTile(alice, 'Bob');
  await expect(bobOnAlice.locator('.tile-avatar')).toHaveText('B');
  await expect(bobOnAlice.getByRole('img', { name: 'Microphone muted' })).toBeVisible();
  await expect(bobOnAlice.getByRole('img', { name: 'Camera off' })).toBeVisible();

  // Turning the camera on again explains why it cannot.
  await bob.getByRole('button', { name: 'Camera', exact: true }).click();
  await expect(bob.getByRole('status').filter({ hasText: 'Access to your camera was blocked' })).toBeVisible();
  await expect(bob.locator('.notice')).toHaveCount(1);
  await expect(bob.locator('.status-dot.is-connected')).toBeVisible();
});
