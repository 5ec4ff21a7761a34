import { cameraTile, expect, expectPlaying, screenshot, test } from './fixtures.ts';

test('pinning a tile spotlights it; the layout button switches grid and spotlight', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  await people.join(roomId, 'Bob');
  await expect(alice.locator('.tile')).toHaveCount(2);
  const layoutButton = alice.getByRole('button', { name: 'Spotlight layout' });
  const mainTile = alice.locator('.stage-main .tile');
  await expect(layoutButton).toHaveAttribute('aria-pressed', 'false');
  await expect(mainTile).toHaveCount(2);

  // Spotlight without a pin shows the other person.
  await layoutButton.click();
  await expect(layoutButton).toHaveAttribute('aria-pressed', 'true');
  await expect(mainTile).toHaveCount(1);
  await expect(mainTile).toHaveAccessibleName('Bob');
  await expect(alice.locator('.stage-strip .tile')).toHaveCount(1);
  await layoutButton.click();
  await expect(layoutButton).toHaveAttribute('aria-pressed', 'false');
  await expect(mainTile).toHaveCount(2);

  // Pinning (from the grid) switches to spotlight with the pinned tile as the main one.
  const pin = cameraTile(alice, 'Alice (you)').getByRole('button', { name: 'Pin Alice', exact: true });
  await pin.click();
  const unpin = alice.getByRole('button', { name: 'Unpin Alice', exact: true });
  await expect(unpin).toHaveAttribute('aria-pressed', 'true');
  await expect(layoutButton).toHaveAttribute('aria-pressed', 'true');
  await expect(mainTile).toHaveCount(1);
  await expect(mainTile).toHaveAccessibleName('Alice (you)');
  await expect(mainTile).toHaveClass(/is-pinned/);

  // Pinning another tile moves the spotlight; unpinning leaves the default.
  await alice.getByRole('button', { name: 'Pin Bob', exact: true }).click();
  await expect(mainTile).toHaveAccessibleName('Bob');
  // The state behind it is the seed's RoomStore, as the page's Alpine store.
  const store = () =>
    alice.evaluate(() => {
      const s = (window as any).parley.state;
      const names = Object.values(s.participants as Record<string, { name: string }>).map((p) => p.name);
      return { layout: s.layout, pinned: s.pinnedParticipantId && s.participants[s.pinnedParticipantId].name, me: s.localUserName, names: names.sort(), tracks: !!s.tracksOf(s.localUserId).camera };
    });
  expect(await store()).toEqual({ layout: 'spotlight', pinned: 'Bob', me: 'Alice', names: ['Alice', 'Bob'], tracks: true });
  // Its actions drive the page like the controls do.
  await alice.evaluate(() => (window as any).parley.state.setPinnedParticipant((window as any).parley.state.localUserId));
  await expect(mainTile).toHaveAccessibleName('Alice (you)');
  await alice.evaluate(() => (window as any).parley.state.setPinnedParticipant(null));
  await alice.getByRole('button', { name: 'Pin Bob', exact: true }).click();
  await expect(mainTile).toHaveAccessibleName('Bob');
  await expect(alice.getByRole('button', { name: 'Unpin Bob', exact: true })).toHaveAttribute('aria-pressed', 'true');
  await expect(alice.getByRole('button', { name: 'Pin Alice', exact: true })).toHaveAttribute('aria-pressed', 'false');
  await alice.getByRole('button', { name: 'Unpin Bob', exact: true }).click();
  await expect(alice.getByRole('button', { name: 'Pin Bob', exact: true })).toHaveAttribute('aria-pressed', 'false');
  await expect(mainTile).toHaveAccessibleName('Bob');

  // Back to the grid.
  await layoutButton.click();
  await expect(layoutButton).toHaveAttribute('aria-pressed', 'false');
  await expect(mainTile).toHaveCount(2);
});

test('the controls are reachable by keyboard, with accessible names', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const focused = () => alice.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return el?.getAttribute('aria-label') ?? el?.textContent?.trim() ?? '';
  });
  const names: string[] = [];
  for (let i = 0; i < 15 && !names.includes('End call'); i++) {
    await alice.keyboard.press('Tab');
    names.push(await focused());
  }
  const controls = ['Microphone', 'Camera', 'Share screen', 'Spotlight layout', 'End call'];
  expect(names.filter((name) => controls.includes(name))).toEqual(controls);
  expect(names).toContain('Copy invite link');
  expect(names).toContain('Pin Alice');

  // Space and Enter work the focused control.
  await alice.getByRole('button', { name: 'Microphone', exact: true }).focus();
  await alice.keyboard.press('Space');
  await expect(alice.getByRole('button', { name: 'Microphone', exact: true })).toHaveAttribute('aria-pressed', 'false');
  await alice.getByRole('button', { name: 'Spotlight layout' }).focus();
  await alice.keyboard.press('Enter');
  await expect(alice.getByRole('button', { name: 'Spotlight layout' })).toHaveAttribute('aria-pressed', 'true');
});

test('a phone-width call fits the screen without scrolling', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const phone = { width: 360, height: 740 };
  const alice = await people.join(roomId, 'Alice', { viewport: phone });
  const bob = await people.join(roomId, 'Bob');
  await expectPlaying([alice, bob], 1);
  const overflow = await alice.evaluate(() => ({
    x: document.documentElement.scrollWidth - innerWidth,
    y: document.documentElement.scrollHeight - innerHeight,
  }));
  expect(overflow).toEqual({ x: 0, y: 0 });
  // Every control is fully on screen.
  for (const button of await alice.getByRole('navigation', { name: 'Call controls' }).getByRole('button').all()) {
    const box = (await button.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(phone.width);
    expect(box.y + box.height).toBeLessThanOrEqual(phone.height);
  }
  // No label is cut off, and each visible label is part of its button's accessible name (WCAG 2.5.3).
  const clipped = await alice.locator('.control-label').evaluateAll((labels) => labels.filter((l) => l.scrollWidth > l.clientWidth).map((l) => l.textContent));
  expect(clipped).toEqual([]);
  const labelInName = await alice.locator('.controls .control').evaluateAll((buttons) =>
    buttons.map((b) => `${b.getAttribute('aria-label')}: ${(b.getAttribute('aria-label') ?? '').toLowerCase().includes((b.querySelector('.control-label')?.textContent ?? '?').toLowerCase())}`),
  );
  expect(labelInName.length).toBeGreaterThanOrEqual(7);
  expect(labelInName.filter((entry) => entry.endsWith('false'))).toEqual([]);
  await expectPlaying([bob], 1);
  await screenshot(alice, 'phone-360');
  await alice.getByRole('button', { name: 'Spotlight layout' }).click();
  await expect(alice.locator('.stage-strip .tile')).toHaveCount(1);
  await screenshot(alice, 'phone-360-spotlight');
});
