/**
 * Issue 13, item 7: smaller exposures. Connection-check slots per /48 as well as per /64; /metrics
 * not public; display names with bidi controls or zero-width characters refused.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import { MAX_PROBES_PER_OWNER } from '../../src/rooms/RoomRegistry.ts';
import { checkName } from '../../src/shared/names.ts';
import { mintRoom } from '../helpers/call.ts';
import { codeOf, connectClient, type TestClient } from '../helpers/client.ts';
import { startTestServer } from '../helpers/server.ts';

test('connection-check slots: 16 /64s of one /48 no longer hold them all (a /48 holds 4× one address\'s)', async (t) => {
  const server = await startTestServer({ env: { TRUST_PROXY: 'true', RATE_PROBES_PER_MINUTE: '0' } });
  t.after(() => server.close());
  const clients: TestClient[] = [];
  t.after(() => clients.forEach((c) => c.close()));
  const probe = async (address: string) => {
    const c = await connectClient(server.url, undefined, { extraHeaders: { 'x-forwarded-for': address } });
    clients.push(c);
    return codeOf(await c.request('joinProbe', {}));
  };
  const codes = [];
  for (let i = 0; i < 16; i++) codes.push(await probe(`2001:db8:55:${(i * 256).toString(16)}::1`));
  assert.equal(codes.filter((c) => c === undefined).length, 4 * MAX_PROBES_PER_OWNER);
  assert.ok(codes.filter(Boolean).every((c) => c === 'limit_reached'));
  assert.equal(await probe('2001:db8:56::1'), undefined, 'another /48 still gets a slot');
});

test('/metrics is not public: 404 on the main port, a bearer token or its own loopback listener', async (t) => {
  const plain = await startTestServer();
  t.after(() => plain.close());
  assert.equal((await fetch(`${plain.url}/metrics`)).status, 404);
  assert.equal(plain.metricsUrl, undefined);

  const token = crypto.randomBytes(24).toString('base64url');
  const guarded = await startTestServer({ env: { METRICS_TOKEN: token, METRICS_PORT: '0' } });
  t.after(() => guarded.close());
  const scrape = (url: string, auth?: string) => fetch(`${url}/metrics`, auth ? { headers: { authorization: auth } } : {});
  assert.equal((await scrape(guarded.url)).status, 401);
  assert.equal((await scrape(guarded.url, `Bearer ${token}x`)).status, 401);
  const ok = await scrape(guarded.url, `Bearer ${token}`);
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /^parley_rooms \d+$/m);
  // The separate listener is on loopback (METRICS_HOST's default), and wants the token too when one is set.
  assert.match(guarded.metricsUrl!, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal((await scrape(guarded.metricsUrl!)).status, 401);
  assert.equal((await scrape(guarded.metricsUrl!, `Bearer ${token}`)).status, 200);
  assert.equal((await fetch(`${guarded.metricsUrl}/`)).status, 404, 'the metrics listener serves nothing else');

  const separate = await startTestServer({ env: { METRICS_PORT: '0' } });
  t.after(() => separate.close());
  assert.equal((await scrape(separate.url)).status, 404);
  assert.equal((await scrape(separate.metricsUrl!)).status, 200);
});

test('display names with bidi controls or zero-width characters are refused, typed or in a token', async (t) => {
  const message = 'Names cannot contain invisible or direction-changing characters.';
  const hostile = ['admin\u202egpj.exe', '\u2066Ada\u2069', 'Ada\u200eLovelace', 'x\u061cy', 'A\u200bda', 'Ad\u200ca', 'A\u200dda', 'Ada\u2060', 'A\ufeffda'];
  for (const name of hostile) assert.deepEqual(checkName(name), { ok: false, error: message }, JSON.stringify(name));
  for (const name of ['Ada Lovelace', '👩‍💻 Ada', '🏳️‍🌈', 'Zoë', 'عائشة']) assert.equal(checkName(name).ok, true, name);

  const secret = crypto.randomBytes(32).toString('base64url');
  const server = await startTestServer();
  t.after(() => server.close());
  await mintRoom(server, 'names-room');
  const c = await connectClient(server.url);
  t.after(() => c.close());
  const reply = await c.request('joinRoom', { roomId: 'names-room', userId: c.userId, userName: 'admin\u202egpj.exe' });
  assert.equal(codeOf(reply), 'invalid_payload');
  assert.ok((reply as { error: string }).error.includes(message));

  const tokens = await startTestServer({ env: { AUTH_SECRET: secret } });
  t.after(() => tokens.close());
  const d = await connectClient(tokens.url, 'dave');
  t.after(() => d.close());
  const token = await new SignJWT({ sub: 'dave', room: 'r', name: 'Dave\u200b', exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
  assert.equal(codeOf(await d.request('joinRoom', { roomId: 'r', userId: 'dave', userName: 'x', token })), 'token_invalid');
});
