import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { SignJWT, generateKeyPair } from 'jose';
import { Redis } from 'ioredis';
import type { Parley } from '../../src/app.ts';
import { createLogger } from '../../src/log.ts';
import { addressKey } from '../../src/net/clientAddress.ts';
import { ClientResolver } from '../../src/net/clientResolver.ts';
import { joinWithTransports, mintRoom, produceCamera, workerCounts } from '../helpers/call.ts';
import { codeOf, connectClient, seated } from '../helpers/client.ts';
import { videoRtpParameters } from '../helpers/fixtures.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

const errorOf = (reply: unknown) => (reply && typeof reply === 'object' && 'error' in reply ? String(reply.error) : undefined);

test('client addresses: a proxy-written port never makes a new client; IPv4 in IPv6 clothing is IPv4', () => {
  const req = (xff: string) => ({ headers: { 'x-forwarded-for': `203.0.113.9, ${xff}` }, socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;
  const resolver = (trustProxy: false | number) => new ClientResolver({ trustProxy, proxyProtocol: false, exemptLoopback: false, log: createLogger('silent') });
  const clientIpOf = (request: IncomingMessage, trust: boolean) => resolver(trust ? 1 : false).resolve(request).ip;
  const keyOf = (xff: string) => addressKey(clientIpOf(req(xff), true));
  assert.equal(keyOf('198.51.100.7:5678'), '198.51.100.7');
  assert.equal(keyOf('[2001:db8:9:9::1]:443'), '2001:db8:9:9::/64');
  for (const mapped of ['::ffff:198.51.100.7', '0:0:0:0:0:ffff:198.51.100.7', '::ffff:c633:6407', '::ffff:0:198.51.100.7']) assert.equal(keyOf(mapped), '198.51.100.7', mapped);
  assert.equal(keyOf('2001:0db8:0009:0009:ffff::1'), '2001:db8:9:9::/64');
  assert.equal(clientIpOf(req('198.51.100.7'), false), '127.0.0.1', 'headers count only with TRUST_PROXY');
});

describe('rate limits', () => {
  let redis: RedisHandle;
  let server: Parley;
  before(async () => {
    redis = await startRedis();
    server = await startTestServer({ redisUrl: redis.url, env: { TRUST_PROXY: 'true', RATE_JOINS_PER_MINUTE: '5', RATE_REQUESTS_PER_5S: '30' } });
  });
  after(async () => {
    await server.close();
    await redis.stop();
  });

  test('a flood of joins from one address is throttled; another address is not', async () => {
    const flooder = await connectClient(server.url, undefined, { extraHeaders: { 'x-forwarded-for': '198.51.100.1' } });
    const replies = [];
    for (let i = 0; i < 8; i++) {
      await mintRoom(server, `flood-${i}`);
      replies.push(await flooder.request('joinRoom', { roomId: `flood-${i}`, userId: flooder.userId, userName: 'F' }));
      if (!errorOf(replies.at(-1))) await flooder.ok('leaveRoom', { roomId: `flood-${i}`, userId: flooder.userId });
    }
    assert.equal(replies.filter((r) => !errorOf(r)).length, 5);
    assert.match(errorOf(replies[7])!, /rate limited/);
    assert.equal(codeOf(replies[7]), 'rate_limited');
    const other = await connectClient(server.url, undefined, { extraHeaders: { 'x-forwarded-for': '198.51.100.2' } });
    await mintRoom(server, 'calm');
    assert.equal(errorOf(await other.request('joinRoom', { roomId: 'calm', userId: other.userId, userName: 'O' })), undefined);
    // Budgets live in Redis, so several Parley processes would share them.
    const inspector = new Redis(redis.url);
    const keys = await inspector.keys('parley:rl:*');
    inspector.disconnect();
    assert.ok(keys.some((k) => k.includes('joinsPerIp')), `rate-limit keys in Redis: ${keys.join(',')}`);
    flooder.close();
    other.close();
  });

  test('an IPv6 client spends from its /64, so rotating addresses inside it does not help', async (t) => {
    const join = async (address: string, i: number) => {
      const c = await connectClient(server.url, undefined, { extraHeaders: { 'x-forwarded-for': address } });
      t.after(() => c.close());
      await mintRoom(server, `v6-${i}`);
      return errorOf(await c.request('joinRoom', { roomId: `v6-${i}`, userId: c.userId, userName: 'Six' }));
    };
    const replies = [];
    for (let i = 0; i < 6; i++) replies.push(await join(`2001:db8:1:2::${(i + 1).toString(16)}`, i));
    assert.deepEqual(replies.map((r) => r === undefined), [true, true, true, true, true, false]);
    assert.match(replies[5]!, /rate limited/);
    assert.equal(await join('2001:db8:1:3::1', 9), undefined, 'the next /64 has its own budget');
  });

  test('minting rooms is limited per address', async () => {
    const limited = await startTestServer({ env: { RATE_ROOMS_PER_MINUTE: '3', TRUST_PROXY: 'true' } });
    try {
      const mint = async (from?: string) =>
        (await fetch(`${limited.url}/rooms`, { method: 'POST', headers: { 'hx-request': 'true', ...(from ? { 'x-forwarded-for': from } : {}) } })).status;
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push(await mint('198.51.100.9'));
      assert.deepEqual(statuses, [201, 201, 201, 429, 429]);
      // Another address has its own budget; behind a declared proxy, a request without the header is not "local".
      assert.equal(await mint('198.51.100.10'), 201);
      assert.deepEqual([await mint(), await mint(), await mint(), await mint()], [201, 201, 201, 429]);
    } finally {
      await limited.close();
    }
  });

  test('a request flood on one socket is throttled without affecting other sockets', async () => {
    const noisy = await connectClient(server.url, undefined, { extraHeaders: { 'x-forwarded-for': '198.51.100.3' } });
    const quiet = await connectClient(server.url, undefined, { extraHeaders: { 'x-forwarded-for': '198.51.100.4' } });
    await mintRoom(server, 'noisy');
    await noisy.ok('joinRoom', { roomId: 'noisy', userId: noisy.userId, userName: 'N' });
    await quiet.ok('joinRoom', { roomId: 'noisy', userId: quiet.userId, userName: 'Q' });
    const flood = await Promise.all(Array.from({ length: 60 }, () => noisy.request('getProducers', { roomId: 'noisy' })));
    const limited = flood.filter((r) => codeOf(r) === 'rate_limited').length;
    assert.ok(limited >= 25, `throttled ${limited} of 60`);
    assert.ok('producers' in (await quiet.request('getProducers', { roomId: 'noisy' })));
    assert.equal(noisy.socket.connected, true, 'throttling is an error reply, not a drop');
    for (const c of [noisy, quiet]) c.close();
  });

  test('a test server may exempt the machine itself; anything a proxy header speaks for is limited', async (t) => {
    const direct = await startTestServer({ env: { RATE_REQUESTS_PER_5S: '30', RATE_ROOMS_PER_MINUTE: '2' } });
    t.after(() => direct.close());
    await mintRoom(direct, 'local-room');
    const burst = async (client: Awaited<ReturnType<typeof connectClient>>) => {
      await client.ok('joinRoom', { roomId: 'local-room', userId: client.userId, userName: 'L' });
      const replies = await Promise.all(Array.from({ length: 60 }, () => client.request('getProducers', { roomId: 'local-room' })));
      return replies.filter((r) => /rate limited/.test(errorOf(r) ?? '')).length;
    };
    const local = await connectClient(direct.url);
    const proxied = await connectClient(direct.url, undefined, { extraHeaders: { 'x-forwarded-for': '127.0.0.1' } });
    t.after(() => [local, proxied].forEach((c) => c.close()));
    assert.equal(await burst(local), 0, 'a local client is not limited');
    assert.ok((await burst(proxied)) >= 25, 'a forwarded (here: spoofed) header means a proxy: limits apply');
    const mint = async (headers: Record<string, string> = {}) => (await fetch(`${direct.url}/rooms`, { method: 'POST', headers: { 'hx-request': 'true', ...headers } })).status;
    assert.deepEqual([await mint(), await mint(), await mint()], [201, 201, 201]);
    assert.deepEqual([await mint({ forwarded: 'for=127.0.0.1' }), await mint({ forwarded: 'for=127.0.0.1' }), await mint({ forwarded: 'for=127.0.0.1' })], [201, 201, 429]);
  });
});

describe('reclaiming a seat after a network drop', () => {
  let server: Parley;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  test('only the holder of the join secret can take its userId over; the others see no duplicate', async () => {
    const roomId = await mintRoom(server, 'reclaim-room');
    const alice = await connectClient(server.url);
    // The reply is exactly the contract's; the secret arrives just before it, to this socket alone.
    assert.deepEqual(await alice.ok('joinRoom', { roomId, userId: alice.userId, userName: 'Alice' }), { participants: [] });
    const [joined] = alice.received('seat');
    assert.deepEqual(joined, { roomId, userId: alice.userId, reclaimSecret: joined!.reclaimSecret });
    assert.match(joined!.reclaimSecret, /^[A-Za-z0-9_-]{32}$/);
    const send = await alice.ok('createWebRtcTransport', { roomId, producing: true, consuming: false });
    const { producerId } = await alice.ok('produce', { transportId: send.id, kind: 'video', rtpParameters: videoRtpParameters() });
    const bob = await joinWithTransports(server, roomId, 'Bob');

    const thief = await connectClient(server.url, alice.userId);
    const refused = await thief.request('joinRoom', { roomId, userId: alice.userId, userName: 'Thief' });
    assert.match(errorOf(refused)!, /already in this room/);
    assert.equal(codeOf(refused), 'seat_taken', 'the code a reconnecting client retries on');
    assert.match(errorOf(await thief.request('joinRoom', { roomId, userId: alice.userId, userName: 'Thief', reclaimSecret: 'x'.repeat(32) }))!, /already in this room/);
    assert.equal(alice.socket.connected, true);

    // Alice's network came back on a new socket before the server noticed the old one was gone.
    const aliceAgain = await connectClient(server.url, alice.userId);
    const dropped = new Promise((resolve) => alice.socket.once('disconnect', resolve));
    const rejoined = await aliceAgain.ok('joinRoom', { roomId, userId: alice.userId, userName: 'Alice', reclaimSecret: joined!.reclaimSecret });
    await dropped;
    assert.deepEqual(seated(rejoined).participants.map((p) => p.userName), ['Bob']);
    assert.notEqual(aliceAgain.received('seat')[0]!.reclaimSecret, joined!.reclaimSecret, 'a fresh secret per join');
    assert.deepEqual(bob.received('seat').map((s) => s.userId), [bob.userId], 'nobody else ever sees a secret');
    assert.deepEqual(thief.received('seat'), []);
    await waitFor(() => bob.received('producerClosed').some((e) => e.producerId === producerId), { what: 'old producer closed for Bob' });
    assert.equal(bob.received('userLeft').length, 0, 'Bob never saw Alice leave');
    const room = server.registry.get(roomId)!;
    assert.equal(room.peers.size, 2);
    assert.equal(room.peers.get(alice.userId)!.socketId, aliceAgain.socket.id);
    await waitFor(async () => (await workerCounts(server, [roomId])).transports === 2, { what: 'old transports closed' });
    // The stale secret is spent.
    const late = await connectClient(server.url, alice.userId);
    assert.match(errorOf(await late.request('joinRoom', { roomId, userId: alice.userId, userName: 'Alice', reclaimSecret: joined!.reclaimSecret }))!, /already in this room/);
    for (const c of [thief, aliceAgain, bob, late]) c.close();
  });

  test('a disconnect in the middle of produce/consume leaves nothing behind', async () => {
    const roomId = 'midway-room';
    const owner = await joinWithTransports(server, roomId, 'Owner');
    const producerId = await produceCamera(owner);
    for (let i = 0; i < 5; i++) {
      const c = await joinWithTransports(server, roomId, `Quitter${i}`);
      const { rtpCapabilities } = await c.ok('getRouterRtpCapabilities', { roomId });
      void c.request('produce', { transportId: c.sendTransportId, kind: 'video', rtpParameters: videoRtpParameters() }).catch(() => {});
      void c.request('consume', { producerId, rtpCapabilities }).catch(() => {});
      c.close();
    }
    await waitFor(async () => server.registry.get(roomId)!.peers.size === 1, { what: 'quitters gone' });
    await waitFor(async () => {
      const counts = await workerCounts(server, [roomId]);
      return counts.transports === 2 && counts.producers === 1 && counts.consumers === 0;
    }, { what: 'only the owner left in the worker' });
    owner.close();
  });
});

describe('room passwords', () => {
  let server: Parley;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  test('a password set at creation is stored hashed and required to join', async () => {
    const res = await fetch(`${server.url}/rooms`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' }, body: 'password=open%20sesame' });
    const roomId = /\/r\/([A-Za-z0-9_-]+)/.exec(await res.text())![1]!;
    const info = await server.store.roomInfo(roomId);
    assert.match(info!.passwordHash!, /^scrypt\$/);
    assert.ok(!info!.passwordHash!.includes('sesame'));
    const c = await connectClient(server.url);
    const withoutPassword = await c.request('joinRoom', { roomId, userId: c.userId, userName: 'C' });
    assert.match(errorOf(withoutPassword)!, /needs a password/);
    assert.equal(codeOf(withoutPassword), 'password_required');
    const wrongPassword = await c.request('joinRoom', { roomId, userId: c.userId, userName: 'C', password: 'open sesam' });
    assert.match(errorOf(wrongPassword)!, /wrong room password/);
    assert.equal(codeOf(wrongPassword), 'password_wrong');
    assert.equal(server.registry.get(roomId)?.peers.size ?? 0, 0);
    assert.ok('participants' in (await c.request('joinRoom', { roomId, userId: c.userId, userName: 'C', password: 'open sesame' })));
    c.close();
  });

  test('a password room the server has forgotten is refused, never left open', async (t) => {
    const mint = async (target: Parley, body: string) =>
      /\/r\/([A-Za-z0-9_-]+)/.exec(await (await fetch(`${target.url}/rooms`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' }, body })).text())![1]!;
    const open = await mint(server, '');
    const locked = await mint(server, 'password=hunter2');
    assert.equal(open.length, 16);
    assert.equal(locked.length, 20, 'a password room id carries its tag');
    // A restart without Redis: a fresh in-memory store has neither room.
    const restarted = await startTestServer();
    t.after(() => restarted.close());
    assert.equal((await fetch(`${restarted.url}/r/${open}`)).status, 404);
    const page = await fetch(`${restarted.url}/r/${locked}`);
    assert.equal(page.status, 410);
    assert.match(await page.text(), /no longer available/);
    const c = await connectClient(restarted.url);
    t.after(() => c.close());
    for (const password of [undefined, 'hunter2', 'guess']) {
      const reply = await c.request('joinRoom', { roomId: locked, userId: c.userId, userName: 'C', ...(password ? { password } : {}) });
      assert.match(errorOf(reply)!, /password the server no longer knows/);
      assert.equal(codeOf(reply), 'room_gone');
    }
    assert.equal(restarted.registry.get(locked)?.peers.size ?? 0, 0);
    // An ordinary room the restarted server never minted does not exist either.
    assert.equal(codeOf(await c.request('joinRoom', { roomId: open, userId: c.userId, userName: 'C' })), 'room_not_found');
  });
});

describe('signed room tokens', () => {
  const secret = crypto.randomBytes(32).toString('base64url');
  let server: Parley;
  before(async () => {
    server = await startTestServer({ env: { AUTH_SECRET: secret } });
  });
  after(async () => {
    await server.close();
  });

  const key = new TextEncoder().encode(secret);
  const USER = 'tok-user';
  const sign = (claims: Record<string, unknown>, alg = 'HS256', signingKey: Parameters<SignJWT['sign']>[0] = key) =>
    new SignJWT({ sub: USER, ...claims }).setProtectedHeader({ alg }).sign(signingKey);
  const now = () => Math.floor(Date.now() / 1000);
  const join = async (token: string | undefined, roomId = 'tok-room') => {
    const c = await connectClient(server.url, USER);
    const reply = await c.request('joinRoom', { roomId, userId: c.userId, userName: 'Payload Name', ...(token ? { token } : {}) });
    c.close();
    return reply;
  };

  test('the token issuer names the rooms: any well-formed room link opens the call page', async () => {
    const res = await fetch(`${server.url}/r/issuer-named-room?token=x`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /data-room-id="issuer-named-room"/);
    assert.equal((await fetch(`${server.url}/r/bad%20id`)).status, 400);
  });

  test('a valid token admits, and the name comes from the token', async () => {
    const reply = await join(await sign({ room: 'tok-room', name: 'Token Name', role: 'host', exp: now() + 60 }));
    assert.equal(errorOf(reply), undefined);
    const watcher = await connectClient(server.url);
    await watcher.ok('joinRoom', { roomId: 'tok-room2', userId: watcher.userId, userName: 'x', token: await sign({ sub: watcher.userId, room: 'tok-room2', name: 'Watcher', exp: now() + 60 }) });
    const host = await connectClient(server.url);
    await host.ok('joinRoom', { roomId: 'tok-room2', userId: host.userId, userName: 'Spoofed', token: await sign({ sub: host.userId, room: 'tok-room2', name: 'Real Host', role: 'host', exp: now() + 60 }) });
    await waitFor(() => watcher.received('userJoined').length === 1, { what: 'userJoined' });
    assert.equal(watcher.received('userJoined')[0]!.userName, 'Real Host');
    assert.equal(server.registry.get('tok-room2')!.peers.get(host.userId)!.role, 'host');
    watcher.close();
    host.close();
  });

  test('missing, expired, early, wrong-room, unsigned, swapped-algorithm and malformed tokens are refused', async () => {
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ room: 'tok-room', name: 'N', exp: now() + 60 })).toString('base64url')}.`;
    const { privateKey } = await generateKeyPair('RS256');
    const cases: [string | undefined, RegExp, string][] = [
      [undefined, /requires a room token/, 'token_required'],
      [await sign({ room: 'tok-room', name: 'N', exp: now() - 60 }), /expired/, 'token_expired'],
      [await sign({ room: 'tok-room', name: 'N', exp: now() + 600, nbf: now() + 300 }), /not valid yet/, 'token_invalid'],
      [await sign({ room: 'other-room', name: 'N', exp: now() + 60 }), /another room/, 'token_invalid'],
      [await sign({ room: 'tok-room', name: 'N' }), /invalid/, 'token_invalid'],
      [unsigned, /invalid/, 'token_invalid'],
      [await sign({ room: 'tok-room', name: 'N', exp: now() + 60 }, 'HS512'), /invalid/, 'token_invalid'],
      [await sign({ room: 'tok-room', name: 'N', exp: now() + 60 }, 'RS256', privateKey), /invalid/, 'token_invalid'],
      [await sign({ room: 'tok-room', name: 'N', exp: now() + 60 }, 'HS256', new TextEncoder().encode('x'.repeat(40))), /invalid/, 'token_invalid'],
      ['not.a.token', /invalid/, 'token_invalid'],
      [await sign({ room: 'tok-room', name: 'bad\u0000name', exp: now() + 60 }), /invalid name/, 'token_invalid'],
    ];
    for (const [token, expected, code] of cases) {
      const reply = await join(token);
      assert.match(errorOf(reply) ?? 'admitted', expected, String(token));
      assert.equal(codeOf(reply), code, String(token));
    }
  });
});

describe('Redis outage mid-call', () => {
  test('calls continue, joins fail fast, and work again after recovery', async () => {
    const redis = await startRedis();
    const server = await startTestServer({ redisUrl: redis.url });
    try {
      const roomId = 'outage-room';
      const a = await joinWithTransports(server, roomId, 'A');
      const b = await joinWithTransports(server, roomId, 'B');
      const leaver = await joinWithTransports(server, roomId, 'Leaver');
      await redis.stop();

      // The call in progress keeps working.
      const producerId = await produceCamera(a);
      const { rtpCapabilities } = await b.ok('getRouterRtpCapabilities', { roomId });
      await b.ok('consume', { producerId, rtpCapabilities });
      // A leave during the outage still works for everyone in the call.
      await leaver.ok('leaveRoom', { roomId, userId: leaver.userId });
      // New joins fail fast with a clear error instead of queueing.
      const late = await connectClient(server.url);
      const started = Date.now();
      const refused = await late.request('joinRoom', { roomId, userId: late.userId, userName: 'Late' });
      assert.match(errorOf(refused)!, /temporarily unavailable/);
      assert.equal(codeOf(refused), 'unavailable');
      // Bounded by the store's command timeout (2 s), not queued until Redis returns; slack for a busy machine.
      assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
      assert.equal((await fetch(`${server.url}/readyz`)).status, 503);
      // Pages that need the store say so plainly (503, try again) instead of failing with a bare 500.
      const page = await fetch(`${server.url}/r/${roomId}`);
      assert.equal(page.status, 503);
      assert.match(await page.text(), /briefly unavailable/);
      const mint = await fetch(`${server.url}/rooms`, { method: 'POST', headers: { 'hx-request': 'true' } });
      assert.equal(mint.status, 503);
      assert.match(await mint.text(), /role="alert"[^>]*>Parley cannot reach its room service/);

      await redis.restart();
      // This test's redis-server keeps nothing on disk: mint the room again once it answers.
      await waitFor(async () => server.store.registerRoom(roomId).then(() => true, () => false), { timeoutMs: 15_000, intervalMs: 300, what: 'Redis back' });
      await waitFor(async () => 'participants' in (await late.request('joinRoom', { roomId, userId: late.userId, userName: 'Late' })), { timeoutMs: 15_000, intervalMs: 300, what: 'joins work again' });
      assert.deepEqual(new Set(server.registry.get(roomId)!.peers.keys()), new Set([a.userId, b.userId, late.userId]));
      for (const c of [a, b, leaver, late]) c.close();
    } finally {
      await server.close();
      await redis.stop();
    }
  });
});

describe('pages', () => {
  let server: Parley;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  test('every page carries strict security headers', async () => {
    const created = await fetch(`${server.url}/rooms`, { method: 'POST', headers: { 'hx-request': 'true' } });
    const roomId = /\/r\/([A-Za-z0-9_-]+)/.exec(await created.text())![1]!;
    for (const path of ['/', `/r/${roomId}`, `/r/${roomId}/left`, '/r/unknown-room', '/r/bad%20id', '/nope', '/css/app.css', '/healthz']) {
      const res = await fetch(`${server.url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /script-src 'self'( 'nonce-[A-Za-z0-9+/]{22}==')?(;|$)/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
    }
  });

  test('user-controlled text is escaped in pages', async () => {
    for (const payload of ['<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>', 'JaVaScRiPt:alert(1)', '<div hx-get="/rooms" hx-trigger="load">']) {
      const res = await fetch(`${server.url}/join?code=${encodeURIComponent(payload)}`);
      assert.equal(res.status, 400);
      const html = await res.text();
      assert.ok(!html.includes(payload) || !/[<>"]/.test(payload), `raw payload reflected: ${payload}`);
      assert.doesNotMatch(html, /<img src=x|<svg onload|<div hx-get/);
    }
    const res = await fetch(`${server.url}/r/${encodeURIComponent('<script>alert(1)</script>')}`);
    assert.equal(res.status, 400);
    assert.doesNotMatch(await res.text(), /<script>alert/);
  });
});

describe('server restart with Redis', () => {
  test('only minted rooms live in Redis: a live call writes nothing a restart could find stale', async () => {
    const redis = await startRedis();
    const direct = new Redis(redis.url);
    try {
      const server = await startTestServer({ redisUrl: redis.url });
      try {
        const minted = await fetch(`${server.url}/rooms`, { method: 'POST', headers: { 'hx-request': 'true' } });
        const roomId = /\/r\/([A-Za-z0-9_-]+)/.exec(await minted.text())![1]!;
        const c = await joinWithTransports(server, roomId, 'Alive');
        assert.deepEqual(await direct.keys('parley:room:*'), [`parley:room:${roomId}:invite`]);
        c.close();
      } finally {
        await server.close();
      }
    } finally {
      direct.disconnect();
      await redis.stop();
    }
  });
});
