import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, jwtVerify } from 'jose';
import type { Parley } from '../../src/app.ts';
import { connectClient, codeOf, type TestClient } from '../helpers/client.ts';
import { checkReply } from '../helpers/jsonSchema.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

const API_KEY = 'test-api-key-0123456789';
const AUTH_SECRET = 'a-room-token-secret-of-32-chars-or-more';

type Doc = Record<string, any>;

/** Calls the API and holds the reply against the OpenAPI document served by the same server. */
async function call(server: Parley, doc: Doc | undefined, method: string, path: string, template: string, init: { key?: string | null; body?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key !== null) headers.authorization = `Bearer ${init.key ?? API_KEY}`;
  if (init.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${path}`, { method, headers, body: init.body });
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  if (doc) assert.deepEqual(checkReply(doc, template, method, res.status, body), [], `${method} ${path} → ${res.status} ${text}`);
  return { status: res.status, body, headers: res.headers };
}

describe('server API off', () => {
  let server: Parley;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test('without API_KEY every /api path is 404', async () => {
    for (const path of ['/api/rooms', '/api/openapi.json', '/api/rooms/abc']) {
      const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      assert.equal(res.status, 404, path);
      assert.equal((await res.json()).code, 'not_found');
    }
  });
});

describe('server API', () => {
  let server: Parley;
  let doc: Doc;
  const clients: TestClient[] = [];
  before(async () => {
    server = await startTestServer({ env: { API_KEY } });
    const res = await fetch(`${server.url}/api/openapi.json`);
    assert.equal(res.status, 200);
    doc = (await res.json()) as Doc;
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close();
  });

  test('the OpenAPI document is 3.1 and describes every route', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/api/openapi.json', '/api/rooms', '/api/rooms/{roomId}']);
    assert.ok(doc.paths['/api/rooms'].post && doc.paths['/api/rooms'].get && doc.paths['/api/rooms/{roomId}'].get && doc.paths['/api/rooms/{roomId}'].delete);
    assert.equal(doc.servers[0].url, server.url);
  });

  test('no key, a wrong key, a malformed header: 401 {error, code}', async () => {
    for (const init of [{ key: null }, { key: 'wrong-key-wrong-key' }, { key: null, headers: { authorization: `Basic ${API_KEY}` } }]) {
      const reply = await call(server, doc, 'GET', '/api/rooms', '/api/rooms', init);
      assert.equal(reply.status, 401);
      assert.equal(reply.body.code, 'unauthorized');
      assert.match(reply.headers.get('www-authenticate')!, /^Bearer/);
    }
    const post = await call(server, doc, 'POST', '/api/rooms', '/api/rooms', { key: 'nope-nope-nope-nope', body: '{}' });
    assert.equal(post.status, 401);
  });

  test('POST /api/rooms mints a joinable room; bad bodies are refused', async () => {
    const created = await call(server, doc, 'POST', '/api/rooms', '/api/rooms');
    assert.equal(created.status, 201);
    const { roomId, url, hostUrl } = created.body;
    assert.equal(url, `${server.url}/r/${roomId}`);
    assert.match(hostUrl, new RegExp(`^${url.replace(/[.?*+^$()[\]{}|\\]/g, '\\$&')}#host=[A-Za-z0-9_-]{32}$`), 'without AUTH_SECRET the host link carries the host key in its fragment');
    assert.equal(created.headers.get('location'), `/api/rooms/${roomId}`);
    const page = await fetch(url);
    assert.equal(page.status, 200);

    const withPassword = await call(server, doc, 'POST', '/api/rooms', '/api/rooms', { body: JSON.stringify({ password: 'sesame', maxParticipants: 3 }) });
    assert.equal(withPassword.status, 201);
    const bot = await connectClient(server.url);
    clients.push(bot);
    assert.equal(codeOf(await bot.request('joinRoom', { roomId: withPassword.body.roomId, userId: bot.userId, userName: 'Bot' })), 'password_required');
    await bot.ok('joinRoom', { roomId: withPassword.body.roomId, userId: bot.userId, userName: 'Bot', password: 'sesame' });

    for (const [body, status, code] of [
      ['{"maxParticipants":0}', 400, 'invalid_body'],
      ['{"maxParticipants":"2"}', 400, 'invalid_body'],
      ['{"colour":"red"}', 400, 'invalid_body'],
      ['{"password":""}', 400, 'invalid_body'],
      ['not json', 400, 'invalid_body'],
      [JSON.stringify({ password: 'x'.repeat(5000) }), 413, 'body_too_large'],
    ] as const) {
      const reply = await call(server, doc, 'POST', '/api/rooms', '/api/rooms', { body });
      assert.equal(reply.status, status, body.slice(0, 40));
      assert.equal(reply.body.code, code);
    }
    const form = await call(server, doc, 'POST', '/api/rooms', '/api/rooms', { body: 'password=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 415);
    const wrongMethod = await call(server, undefined, 'PUT', '/api/rooms', '/api/rooms');
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET, POST');
  });

  test('maxParticipants caps the call', async () => {
    const { body } = await call(server, doc, 'POST', '/api/rooms', '/api/rooms', { body: JSON.stringify({ maxParticipants: 1 }) });
    const [a, b] = [await connectClient(server.url), await connectClient(server.url)];
    clients.push(a, b);
    await a.ok('joinRoom', { roomId: body.roomId, userId: a.userId, userName: 'A' });
    assert.equal(codeOf(await b.request('joinRoom', { roomId: body.roomId, userId: b.userId, userName: 'B' })), 'limit_reached');
  });

  test('GET lists live calls and their participants; unknown rooms are 404', async () => {
    const { body } = await call(server, doc, 'POST', '/api/rooms', '/api/rooms');
    const roomId = body.roomId as string;
    const idle = await call(server, doc, 'GET', `/api/rooms/${roomId}`, '/api/rooms/{roomId}');
    assert.deepEqual(idle.body, { roomId, live: false, participants: [] });

    const [a, b] = [await connectClient(server.url), await connectClient(server.url)];
    clients.push(a, b);
    await a.ok('joinRoom', { roomId, userId: a.userId, userName: 'Ann' });
    await b.ok('joinRoom', { roomId, userId: b.userId, userName: 'Bob' });
    const list = await call(server, doc, 'GET', '/api/rooms', '/api/rooms');
    assert.deepEqual(list.body.rooms.find((r: { roomId: string }) => r.roomId === roomId), { roomId, participants: 2 });
    const one = await call(server, doc, 'GET', `/api/rooms/${roomId}`, '/api/rooms/{roomId}');
    assert.equal(one.body.live, true);
    assert.deepEqual(
      one.body.participants.map((p: { userName: string }) => p.userName).sort(),
      ['Ann', 'Bob'],
    );
    for (const path of ['/api/rooms/never-minted', '/api/rooms/bad%20id']) {
      const missing = await call(server, doc, 'GET', path, '/api/rooms/{roomId}');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.code, 'not_found');
    }
    const nothing = await call(server, undefined, 'GET', '/api/nothing', '/api/nothing');
    assert.equal(nothing.status, 404);
  });

  test('DELETE ends the call for everyone: told why, disconnected, not let back in', async () => {
    const { body } = await call(server, doc, 'POST', '/api/rooms', '/api/rooms');
    const roomId = body.roomId as string;
    const [a, b] = [await connectClient(server.url), await connectClient(server.url)];
    clients.push(a, b);
    await a.ok('joinRoom', { roomId, userId: a.userId, userName: 'Ann' });
    await b.ok('joinRoom', { roomId, userId: b.userId, userName: 'Bob' });
    const disconnected = [a, b].map((c) => new Promise<void>((resolve) => c.socket.once('disconnect', () => resolve())));

    const ended = await call(server, doc, 'DELETE', `/api/rooms/${roomId}?reason=${encodeURIComponent('Meeting over')}`, '/api/rooms/{roomId}');
    assert.equal(ended.status, 204);
    await Promise.all(disconnected);
    for (const c of [a, b]) assert.deepEqual(c.received('removedFromRoom'), [{ reason: 'Meeting over' }]);
    assert.equal(server.registry.get(roomId), undefined, 'the room is closed');

    const again = await connectClient(server.url, a.userId);
    clients.push(again);
    assert.equal(codeOf(await again.request('joinRoom', { roomId, userId: a.userId, userName: 'Ann' })), 'removed');
    const other = await connectClient(server.url);
    clients.push(other);
    assert.equal(codeOf(await other.request('joinRoom', { roomId, userId: other.userId, userName: 'New' })), 'removed');

    const gone = await call(server, doc, 'DELETE', `/api/rooms/${roomId}`, '/api/rooms/{roomId}');
    assert.equal(gone.status, 404);
  });
});

describe('server API with room tokens', () => {
  let server: Parley;
  before(async () => {
    server = await startTestServer({ env: { API_KEY, AUTH_SECRET } });
  });
  after(() => server.close());

  test('hostUrl carries a signed host token that the server admits', async () => {
    const res = await fetch(`${server.url}/api/rooms`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(res.status, 201);
    const { roomId, url, hostUrl } = (await res.json()) as { roomId: string; url: string; hostUrl: string };
    const token = new URL(hostUrl).searchParams.get('token')!;
    assert.ok(hostUrl.startsWith(`${url}?token=`));
    const { payload } = await jwtVerify(token, new TextEncoder().encode(AUTH_SECRET), { algorithms: ['HS256'] });
    assert.equal(payload.room, roomId);
    assert.equal(payload.role, 'host');
    assert.match(String(payload.sub), /^[A-Za-z0-9_-]{1,64}$/);
    assert.ok(payload.exp! > Date.now() / 1000 + 3600);

    const host = await connectClient(server.url, String(decodeJwt(token).sub));
    try {
      await host.ok('joinRoom', { roomId, userId: host.userId, userName: 'ignored', token });
      await waitFor(() => server.registry.get(roomId)?.peers.get(host.userId)?.role === 'host', { what: 'the host seated as host' });
    } finally {
      host.close();
    }
  });
});
