import { expect, test } from './fixtures.ts';

test('the name is remembered across a reload', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const page = await people.join(roomId, 'Dana Scully');
  await page.reload();
  await expect(page.getByLabel('Your name')).toHaveValue('Dana Scully');
  await expect(page.getByLabel('Your name')).toBeFocused();
});

test('invalid names are refused with an error, and nobody joins', async ({ people, newRoom, server }) => {
  const roomId = await newRoom();
  const page = await people.open(`/r/${roomId}`);
  const input = page.getByLabel('Your name');
  const join = page.getByRole('button', { name: 'Join call' });
  const error = page.locator('#name-error');
  const cases = [
    ['', 'Please enter your name.'],
    ['   ', 'Please enter your name.'],
    ['x'.repeat(41), 'Names can be at most 40 characters.'],
    ['Eve\u0007', 'Names cannot contain control characters'],
    ['Tab\there', 'Names cannot contain control characters'],
  ] as const;
  for (const [name, message] of cases) {
    await input.fill(name);
    await expect(error).toBeEmpty(); // typing clears the previous error
    await join.click();
    await expect(error).toContainText(message);
    await expect(input).toHaveAttribute('aria-invalid', 'true');
    await expect(input).toBeFocused();
    await expect(page.getByRole('dialog', { name: 'Ready to join?' })).toBeVisible();
  }
  expect(await page.evaluate(() => (window as any).parley.state.connection)).toBe('idle');
  expect(server.registry.get(roomId)).toBeUndefined();

  // Exactly 40 characters is fine.
  await input.fill('y'.repeat(40));
  await join.click();
  await expect(page.locator('.status-dot.is-connected')).toBeVisible();
  await expect(input).toBeHidden();
  await expect(page.getByRole('dialog')).toHaveCount(0);
});

test('an unknown room shows a 404 page, a malformed link a 400 page', async ({ people, server }) => {
  const page = await people.open('/');
  const missing = await page.goto(`${server.url}/r/NoSuchRoom123`);
  expect(missing!.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('This room does not exist');
  await expect(page.getByRole('link', { name: 'Start a new call' })).toBeVisible();

  const bad = await page.goto(`${server.url}/r/bad%20id`);
  expect(bad!.status()).toBe(400);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('This link is not valid');
});

test('a password-protected room asks for the password and refuses a wrong one', async ({ people, server }) => {
  const home = await people.open('/');
  await home.getByText('Protect with a password (optional)').click();
  await home.getByLabel('Room password').fill('tea time');
  await home.getByRole('button', { name: 'New call' }).click();
  await home.getByRole('link', { name: 'Join the call' }).click();
  const roomId = /\/r\/([A-Za-z0-9_-]+)/.exec(home.url())![1]!;

  await home.getByLabel('Your name').fill('Pat');
  await home.getByRole('button', { name: 'Join call' }).click();
  await expect(home.locator('#password-error')).toHaveText('This room needs a password.');
  await home.getByLabel('Room password').fill('coffee time');
  await home.getByRole('button', { name: 'Join call' }).click();
  await expect(home.locator('#password-error')).toHaveText('Wrong room password.');
  expect(server.registry.get(roomId)?.peers.size ?? 0).toBe(0);
  await home.getByLabel('Room password').fill('tea time');
  await home.getByRole('button', { name: 'Join call' }).click();
  await expect(home.locator('.status-dot.is-connected')).toBeVisible();
  expect(server.registry.get(roomId)!.peers.size).toBe(1);
});

test('htmx honours only markup the server stamped: injected htmx attributes stay inert', async ({ people }) => {
  const home = await people.open('/');
  const posts: string[] = [];
  home.on('request', (request) => {
    if (request.method() === 'POST') posts.push(new URL(request.url()).pathname);
  });
  // The real form (stamped with this response's nonce) still works through htmx.
  await home.getByRole('button', { name: 'New call' }).click();
  await expect(home.getByRole('link', { name: 'Join the call' })).toBeVisible();
  expect(posts).toEqual(['/rooms']);
  // Markup that got in some other way (as an injection would) is stripped of its htmx attributes.
  const injected = await home.evaluate(async () => {
    const button = document.createElement('button');
    button.setAttribute('hx-post', '/rooms');
    button.setAttribute('hx-trigger', 'load');
    // An injected handler must not run either (hx-csp strips it; the CSP forbids eval besides).
    button.setAttribute('hx-on:click', 'window.pwned = true');
    document.body.append(button);
    (window as any).htmx.process(button);
    button.click();
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { attributes: button.getAttributeNames().filter((name) => name.startsWith('hx-')), pwned: (window as any).pwned === true };
  });
  expect(injected).toEqual({ attributes: [], pwned: false });
  expect(posts).toEqual(['/rooms']);
});
