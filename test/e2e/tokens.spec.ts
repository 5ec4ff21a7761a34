import crypto from 'node:crypto';
import { SignJWT } from 'jose';
import type { Page } from '@playwright/test';
import { startTestServer } from '../helpers/server.ts';
import { cameraTile, expect, expectPlaying, test } from './fixtures.ts';

/** A room token as an application would hand it out: room, display name, and the person (sub). */
function sign(secret: string, claims: { room: string; name: string; sub: string }): Promise<string> {
  return new SignJWT({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(new TextEncoder().encode(secret));
}

test('a token link: the token leaves the address bar, the seat is the token’s person, and a reload still gets in', async ({ browser }) => {
  const secret = crypto.randomBytes(32).toString('base64url');
  const server = await startTestServer({ env: { AUTH_SECRET: secret } });
  const contexts = await Promise.all([0, 1].map(() => browser.newContext({ permissions: ['camera', 'microphone'] })));
  try {
    const roomId = 'team-standup';
    const [ada, bob] = (await Promise.all(contexts.map((context) => context.newPage()))) as [Page, Page];
    const join = async (page: Page, sub: string, name: string) => {
      await page.goto(`${server.url}/r/${roomId}?token=${await sign(secret, { room: roomId, name, sub })}&lang=en`);
      // Taken out at once, before anything else: other query parameters stay.
      await expect(page).toHaveURL(`${server.url}/r/${roomId}?lang=en`);
      await page.getByLabel('Your name').fill(name);
      await page.getByRole('button', { name: 'Join call' }).click();
      await expect(page.locator('.status-dot.is-connected')).toBeVisible();
    };
    await join(ada, 'ada-1', 'Ada');
    await join(bob, 'bob-7', 'Bob');
    const room = server.registry.get(roomId)!;
    expect([...room.peers.keys()].sort()).toEqual(['ada-1', 'bob-7']);
    await expect(cameraTile(bob, 'Ada')).toBeVisible();
    await expectPlaying([ada, bob], 1);

    // The token is kept for this tab only: a reload joins again without it in the address.
    await ada.reload();
    await expect(ada).toHaveURL(`${server.url}/r/${roomId}?lang=en`);
    await ada.getByRole('button', { name: 'Join call' }).click();
    await expect(ada.locator('.status-dot.is-connected')).toBeVisible();
    await expect.poll(() => [...(server.registry.get(roomId)?.peers.keys() ?? [])].sort()).toEqual(['ada-1', 'bob-7']);
    await expectPlaying([ada, bob], 1);
  } finally {
    await Promise.all(contexts.map((context) => context.close()));
    await server.close();
  }
});
