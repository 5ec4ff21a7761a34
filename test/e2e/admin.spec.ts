import type { Parley } from '../../src/app.ts';
import { startTestServer } from '../helpers/server.ts';
import { expect, SCREENSHOTS, test as base, userIdOf } from './fixtures.ts';

const ADMIN_TOKEN = 'admin-token-for-the-browser-test';

// The same fixtures, on a server with the admin page turned on.
const test = base.extend<{}, { server: Parley }>({
  server: [
    async ({}, use) => {
      const server = await startTestServer({ workers: 1, emptyRoomGraceMs: 1000, env: { ADMIN_TOKEN } });
      await use(server);
      await server.close();
    },
    { scope: 'worker' },
  ],
});

test('an operator signs in, watches a live call with graphs, and removes a participant', async ({ people, newRoom, server }) => {
  const roomId = await newRoom();
  const ann = await people.join(roomId, 'Ann');
  const bob = await people.join(roomId, 'Bob');
  const bobId = await userIdOf(bob);

  const admin = await people.open('/admin', { grantMedia: false, viewport: { width: 1280, height: 900 } });
  await expect(admin.getByLabel('Admin token')).toBeVisible();
  await admin.getByLabel('Admin token').fill('not the token');
  await admin.getByRole('button', { name: 'Sign in' }).click();
  await expect(admin.getByRole('alert')).toHaveText(/not the admin token/);
  await admin.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await admin.getByRole('button', { name: 'Sign in' }).click();
  await expect(admin.getByRole('heading', { name: 'Server admin' })).toBeVisible();

  const call = admin.getByRole('article', { name: `Call ${roomId}` });
  await expect(call).toBeVisible();
  await expect(call.getByRole('row', { name: /Ann/ })).toBeVisible();
  await expect(call.getByRole('row', { name: /Bob/ })).toBeVisible();
  // Media flows: the polled fragment soon shows bitrate and a quality for both.
  await expect.poll(async () => call.locator('.quality-good, .quality-fair, .quality-poor').count(), { timeout: 30_000 }).toBe(2);
  await expect(call.getByRole('row', { name: /Ann/ })).toContainText(/kb\/s|Mb\/s/);
  // Graphs: three server-drawn SVGs with lines once a few samples exist (sampled every 5 s).
  await expect(admin.locator('svg.chart')).toHaveCount(3);
  await expect.poll(async () => admin.locator('svg.chart polyline').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
  const box = await admin.locator('svg.chart').first().boundingBox();
  expect(box!.width).toBeGreaterThan(200);
  await admin.screenshot({ path: `${SCREENSHOTS}/admin-live.png`, fullPage: true });

  // Remove Bob: a confirm, then the fragment comes back without him; his page is not re-seated.
  admin.once('dialog', (dialog) => void dialog.accept());
  await call.getByRole('row', { name: /Bob/ }).getByRole('button', { name: 'Remove Bob' }).click();
  await expect(admin.getByRole('status')).toHaveText(/Removed/);
  await expect(call.getByRole('row', { name: /Bob/ })).toHaveCount(0);
  await expect.poll(() => server.registry.get(roomId)?.peers.has(bobId)).toBe(false);
  await expect(ann.getByRole('article', { name: 'Bob', exact: true })).toHaveCount(0);
  // His client may try to reconnect; the server keeps the seat closed.
  await expect.poll(() => server.registry.get(roomId)?.peers.size, { timeout: 5000 }).toBe(1);
  await admin.screenshot({ path: `${SCREENSHOTS}/admin-removed.png`, fullPage: true });
  await bob.screenshot({ path: `${SCREENSHOTS}/admin-removed-participant.png` });

  // The sign-in page and the wrong token are answered 401 on purpose; nothing else may go wrong (CSP included).
  expect((await people.problems(admin)).filter((p) => !/status of 401/.test(p))).toEqual([]);
});
