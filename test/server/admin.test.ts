import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { lineChart, niceMax } from '../../src/admin/charts.ts';
import { joinWithTransports, mintRoom, produceCamera } from '../helpers/call.ts';
import { codeOf, connectClient, type TestClient } from '../helpers/client.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

describe('admin page off', () => {
  let server: Parley;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test('without ADMIN_TOKEN /admin does not exist, whatever is sent', async () => {
    for (const [method, path] of [['GET', '/admin'], ['POST', '/admin/login'], ['POST', '/admin/rooms/x/close']]) {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, origin: server.url } });
      assert.equal(res.status, 404, `${method} ${path}`);
    }
  });
});

describe('admin page', () => {
  let server: Parley;
  const clients: TestClient[] = [];
  before(async () => {
    // Behind a (pretend) TLS-terminating proxy on loopback: X-Forwarded-Proto decides the cookie's Secure flag.
    server = await startTestServer({ env: { ADMIN_TOKEN, TRUST_PROXY: '127.0.0.1' } });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers, redirect: 'manual' });
  const post = (path: string, headers: Record<string, string> = {}, body?: string) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body, redirect: 'manual' });
  const signIn = async (headers: Record<string, string> = {}) => {
    const res = await post('/admin/login', { origin: server.url, ...headers }, `token=${encodeURIComponent(ADMIN_TOKEN)}`);
    assert.equal(res.status, 303);
    const setCookie = res.headers.get('set-cookie')!;
    return { setCookie, cookie: setCookie.split(';')[0]! };
  };

  test('without a token: the sign-in form and nothing else; a wrong bearer token is 401', async () => {
    const roomId = await mintRoom(server, 'secret-room-name');
    const bot = await connectClient(server.url);
    clients.push(bot);
    await bot.ok('joinRoom', { roomId, userId: bot.userId, userName: 'Visible Only To Admins' });

    const page = await get('/admin');
    assert.equal(page.status, 401);
    const html = await page.text();
    assert.match(html, /Admin token/);
    assert.doesNotMatch(html, /secret-room-name|Visible Only To Admins/);
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);

    for (const headers of [{ authorization: 'Bearer wrong-token-wrong-token' }, { accept: 'application/json' }, { cookie: 'parley_admin=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }] as Record<string, string>[]) {
      const res = await get('/admin', headers);
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.doesNotMatch(await res.text(), /secret-room-name/);
    }
    const fragment = await get('/admin', { 'hx-request': 'true' });
    assert.equal(fragment.status, 401);
    assert.equal(fragment.headers.get('hx-redirect'), '/admin');

    const json = await get('/admin', { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'application/json' });
    assert.equal(json.status, 200);
    const live = (await json.json()) as { rooms: { id: string; participants: { userName: string }[] }[]; workers: unknown[] };
    assert.deepEqual(live.rooms.find((r) => r.id === roomId)?.participants.map((p) => p.userName), ['Visible Only To Admins']);
    assert.equal(live.workers.length, 1);
  });

  test('signing in: wrong token 401, foreign or missing Origin 403, then an HttpOnly SameSite=Strict cookie without the token in it', async () => {
    assert.equal((await post('/admin/login', { origin: server.url }, 'token=nope')).status, 401);
    assert.equal((await post('/admin/login', {}, `token=${ADMIN_TOKEN}`)).status, 403);
    assert.equal((await post('/admin/login', { origin: 'https://evil.example' }, `token=${ADMIN_TOKEN}`)).status, 403);
    assert.equal((await post('/admin/login', { origin: 'null', 'sec-fetch-site': 'cross-site' }, `token=${ADMIN_TOKEN}`)).status, 403);
    assert.equal((await post('/admin/login', { origin: 'null' }, `token=${ADMIN_TOKEN}`)).status, 403);
    // A form POST under Referrer-Policy: no-referrer: Origin null, vouched for by Sec-Fetch-Site.
    assert.equal((await post('/admin/login', { origin: 'null', 'sec-fetch-site': 'same-origin' }, `token=${ADMIN_TOKEN}`)).status, 303);

    const { setCookie, cookie } = await signIn();
    assert.match(setCookie, /^parley_admin=[A-Za-z0-9_-]{43}; /);
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    assert.match(setCookie, /; Path=\//);
    assert.doesNotMatch(setCookie, /Secure/, 'plain http: no Secure flag (the browser would drop the cookie)');
    assert.ok(!setCookie.includes(ADMIN_TOKEN));

    const page = await get('/admin', { cookie });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Server admin/);
    assert.match(html, /<svg class="chart"/);
    assert.doesNotMatch(html, /style=/, 'no inline styles: the CSP forbids them');
    const nonce = /'nonce-([^']+)'/.exec(page.headers.get('content-security-policy')!)![1];
    assert.match(html, new RegExp(`hx-nonce="${nonce!.replace(/[+/=]/g, '\\$&')}"`));

    const fragment = await get('/admin', { cookie, 'hx-request': 'true' });
    assert.equal(fragment.status, 200);
    const part = await fragment.text();
    assert.match(part, /^<section id="admin-live"/);
    assert.doesNotMatch(part, /<html/);

    // Signing out ends that session for good.
    const out = await post('/admin/logout', { cookie, origin: server.url });
    assert.equal(out.status, 303);
    assert.match(out.headers.get('set-cookie')!, /Max-Age=0/);
    assert.equal((await get('/admin', { cookie })).status, 401);
  });

  test('over HTTPS (X-Forwarded-Proto from the trusted proxy) the cookie is Secure and __Host-', async () => {
    const host = new URL(server.url).host;
    const { setCookie, cookie } = await signIn({ 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9', origin: `https://${host}` });
    assert.match(setCookie, /^__Host-parley_admin=/);
    assert.match(setCookie, /; Secure/);
    assert.equal((await get('/admin', { cookie, 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' })).status, 200);
    assert.equal((await get('/admin', { cookie })).status, 401, 'a __Host- cookie counts only over HTTPS');
  });

  test('removing a participant: cookie POSTs need our Origin; the person is told, dropped, and not re-seated', async () => {
    const a = await joinWithTransports(server, 'moderated');
    const b = await joinWithTransports(server, 'moderated');
    clients.push(a, b);
    await produceCamera(a);
    const { cookie } = await signIn();
    const path = `/admin/rooms/moderated/participants/${a.userId}/remove`;

    assert.equal((await post(path, { cookie })).status, 403, 'no Origin');
    assert.equal((await post(path, { cookie, origin: 'https://evil.example' })).status, 403, 'foreign Origin');
    assert.equal((await post(path, { cookie: 'parley_admin=forged', origin: server.url })).status, 401);
    assert.ok(server.registry.get('moderated')?.peers.has(a.userId));

    const disconnected = new Promise<void>((resolve) => a.socket.once('disconnect', () => resolve()));
    const res = await post(path, { cookie, origin: server.url, 'hx-request': 'true' });
    assert.equal(res.status, 200);
    const fragment = await res.text();
    assert.match(fragment, /Removed/);
    await disconnected;
    assert.equal(a.received('removedFromRoom').length, 1);
    assert.match(a.received('removedFromRoom')[0]!.reason, /removed you/);
    await waitFor(() => b.received('userLeft').some((e) => e.userId === a.userId), { what: 'the others hear userLeft' });
    assert.ok(!server.registry.get('moderated')?.peers.has(a.userId));

    const back = await connectClient(server.url, a.userId);
    clients.push(back);
    assert.equal(codeOf(await back.request('joinRoom', { roomId: 'moderated', userId: a.userId, userName: 'Again' })), 'removed');

    // A script with the bearer token needs no Origin; ending the call tells everyone.
    const ended = new Promise<void>((resolve) => b.socket.once('disconnect', () => resolve()));
    const close = await fetch(`${server.url}/admin/rooms/moderated/close`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'application/json' } });
    assert.equal(close.status, 200);
    await ended;
    assert.equal(b.received('removedFromRoom').length, 1);
    assert.equal(server.registry.get('moderated'), undefined);
  });

  test('the page shows stats per participant and per worker', async () => {
    const a = await joinWithTransports(server, 'stats-room', 'Sender');
    clients.push(a);
    await produceCamera(a);
    const res = await get('/admin', { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'application/json' });
    const live = (await res.json()) as { rooms: any[]; workers: any[]; history: unknown[] };
    const room = live.rooms.find((r) => r.id === 'stats-room');
    assert.equal(room.participants[0].producers, 1);
    for (const key of ['quality', 'bitrateUp', 'bitrateDown']) assert.ok(key in room.participants[0], key);
    assert.ok(live.workers[0].producers >= 1);
    assert.ok(live.workers[0].maxRssBytes > 0);
    assert.ok(live.history.length >= 1);
  });
});

describe('charts', () => {
  test('an inline SVG polyline over 15 minutes, no style attributes, text escaped', () => {
    const now = 1_000_000_000;
    const svg = lineChart({
      title: 'A <b> & "c"',
      now,
      windowMs: 15 * 60_000,
      format: String,
      series: [{ label: 'x', className: 'chart-line-1', points: [[now - 60_000, 1], [now - 30_000, 3], [now, 2]] }],
    });
    assert.match(svg, /^<svg class="chart" viewBox="0 0 320 100"/);
    assert.match(svg, /<polyline class="chart-line chart-line-1" points="[\d., ]+"/);
    assert.doesNotMatch(svg, /style|<b>|<script/);
    assert.equal(niceMax(3), 5);
    assert.equal(niceMax(0), 1);
    assert.equal(niceMax(120_000), 200_000);
  });
});
