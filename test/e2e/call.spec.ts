import { expect, joinAs, playingRemoteVideos, SCREENSHOTS, test } from './fixtures.ts';

test('three participants see and hear each other', async ({ browser, server, newRoom }) => {
  const roomId = await newRoom();
  const url = `${server.url}/r/${roomId}`;
  const alice = await joinAs(browser, url, 'Alice');
  const bob = await joinAs(browser, url, 'Bob');
  const carol = await joinAs(browser, url, 'Carol');
  for (const page of [alice, bob, carol]) {
    await expect(page.locator('.tile')).toHaveCount(3);
    await expect.poll(() => playingRemoteVideos(page), { timeout: 20_000 }).toBe(2);
    const audioPackets = async () => {
      const stats = await page.evaluate(() => (window as any).parley.stats());
      return stats.consumers.filter((c: any) => c.kind === 'audio' && c.packetsReceived > 0).map((c: any) => c.packetsReceived);
    };
    const first = await audioPackets();
    expect(first).toHaveLength(2);
    await expect.poll(async () => (await audioPackets()).every((n: number, i: number) => n > first[i]!)).toBe(true);
  }
  await alice.screenshot({ path: `${SCREENSHOTS}/grid-3.png` });
});
