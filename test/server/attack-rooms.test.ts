/**
 * Issue 13, item 5: rooms exist only when minted (no squatting on /r/team-standup, and a room the
 * store forgot takes no newcomers). Item 6: tokens bind a person (sub), with audience, issuer and
 * lifetime checks, and Ed25519 keys work (or a key that cannot is refused at start-up).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { codeOf, connectClient } from '../helpers/client.ts';
import { startRedis } from '../helpers/redis.ts';
import { startTestServer } from '../helpers/server.ts';

const errorOf = (reply: unknown) => (reply && typeof reply === 'object' && 'error' in reply ? String(reply.error) : undefined);
const now = () => Math.floor(Date.now() / 1000);

test('an id nobody minted cannot be squatted: room_not_found, no room made, and the page says so', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const squatter = await connectClient(server.url);
  t.after(() => squatter.close());
  const reply = await squatter.request('joinRoom', { roomId: 'team-standup', userId: squatter.userId, userName: 'Squatter' });
  assert.equal(codeOf(reply), 'room_not_found');
  assert.match(errorOf(reply)!, /this room does not exist/);
  assert.equal(server.registry.get('team-standup'), undefined);
  assert.equal((await fetch(`${server.url}/r/team-standup`)).status, 404);
  // A minted room works as ever.
  const minted = await fetch(`${server.url}/rooms`, { method: 'POST', headers: { 'hx-request': 'true' } });
  const roomId = /\/r\/([A-Za-z0-9_-]+)/.exec(await minted.text())![1]!;
  assert.ok('participants' in (await squatter.request('joinRoom', { roomId, userId: squatter.userId, userName: 'Owner' })));
});

test('a live room the store has forgotten takes no newcomers', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const server = await startTestServer({ redisUrl: redis.url });
  t.after(() => server.close());
  await server.store.registerRoom('forgotten-room');
  const member = await connectClient(server.url);
  t.after(() => member.close());
  await member.ok('joinRoom', { roomId: 'forgotten-room', userId: member.userId, userName: 'Member' });
  const direct = new Redis(redis.url);
  await direct.del('parley:room:forgotten-room:invite');
  direct.disconnect();
  const newcomer = await connectClient(server.url);
  t.after(() => newcomer.close());
  assert.equal(codeOf(await newcomer.request('joinRoom', { roomId: 'forgotten-room', userId: newcomer.userId, userName: 'New' })), 'room_not_found');
  assert.equal((await fetch(`${server.url}/r/forgotten-room`)).status, 404);
  assert.equal(server.registry.get('forgotten-room')!.peers.size, 1, 'the member is still in the call');
});

test('one token seats one person: the seat\'s userId is the token\'s sub', async (t) => {
  const secret = crypto.randomBytes(32).toString('base64url');
  const server = await startTestServer({ env: { AUTH_SECRET: secret } });
  t.after(() => server.close());
  const sign = (claims: Record<string, unknown>) => new SignJWT({ room: 'sub-room', name: 'Alice', exp: now() + 600, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
  const token = await sign({ sub: 'alice' });
  const codes = [];
  for (let i = 0; i < 5; i++) {
    // Five people sharing one link, each a fresh client: only the first is seated.
    const c = await connectClient(server.url, 'alice');
    t.after(() => c.close());
    codes.push(codeOf(await c.request('joinRoom', { roomId: 'sub-room', userId: 'alice', userName: 'x', token })));
  }
  assert.deepEqual(codes, [undefined, 'seat_taken', 'seat_taken', 'seat_taken', 'seat_taken']);
  const other = await connectClient(server.url);
  t.after(() => other.close());
  const mismatch = await other.request('joinRoom', { roomId: 'sub-room', userId: other.userId, userName: 'x', token });
  assert.equal(codeOf(mismatch), 'invalid_request');
  assert.match(errorOf(mismatch)!, /token's sub/);
  for (const claims of [{}, { sub: 'a b' }, { sub: 'x'.repeat(65) }, { sub: 42 }]) {
    const reply = await other.request('joinRoom', { roomId: 'sub-room', userId: other.userId, userName: 'x', token: await sign(claims) });
    assert.equal(codeOf(reply), 'token_invalid', JSON.stringify(claims));
  }
  assert.deepEqual([...server.registry.get('sub-room')!.peers.keys()], ['alice']);
});

test('AUTH_AUDIENCE, AUTH_ISSUER and AUTH_MAX_TOKEN_AGE are enforced', async (t) => {
  const secret = crypto.randomBytes(32).toString('base64url');
  const server = await startTestServer({ env: { AUTH_SECRET: secret, AUTH_AUDIENCE: 'parley', AUTH_ISSUER: 'https://app.example', AUTH_MAX_TOKEN_AGE: '1h' } });
  t.after(() => server.close());
  const good = { sub: 'bob', room: 'aud-room', name: 'Bob', aud: 'parley', iss: 'https://app.example', iat: now(), exp: now() + 1800 };
  const join = async (claims: Record<string, unknown>) => {
    const c = await connectClient(server.url, 'bob');
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    const reply = await c.request('joinRoom', { roomId: 'aud-room', userId: 'bob', userName: 'x', token });
    c.close();
    return reply;
  };
  const { aud: _aud, iss: _iss, iat: _iat, ...bare } = good;
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ ...good, aud: 'another-app' }, /another audience/],
    [{ ...good, aud: undefined }, /invalid|audience/],
    [{ ...good, iss: 'https://evil.example' }, /another issuer/],
    [{ ...good, exp: now() + 7200 }, /lives longer/], // exp - iat = 2 h
    [{ ...bare, aud: 'parley', iss: 'https://app.example', exp: now() + 7200 }, /lives longer/], // no iat: exp - now
    [{ ...good, iat: now() + 5000, exp: now() + 7000 }, /lives longer/], // a future iat does not stretch it
  ];
  for (const [claims, pattern] of refused) {
    const reply = await join(JSON.parse(JSON.stringify(claims)));
    assert.equal(codeOf(reply), 'token_invalid', JSON.stringify(claims));
    assert.match(errorOf(reply)!, pattern);
  }
  assert.ok('participants' in (await join(good)), 'a token within every rule is admitted');
});

test('an Ed25519 AUTH_PUBLIC_KEY verifies EdDSA tokens; a key type that cannot is refused at start-up', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-keys-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, key: crypto.KeyObject) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, key.export({ type: 'spki', format: 'pem' }));
    return file;
  };
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const server = await startTestServer({ env: { AUTH_PUBLIC_KEY: write('ed25519.pem', publicKey) } });
  t.after(() => server.close());
  const c = await connectClient(server.url, 'carol');
  t.after(() => c.close());
  const token = await new SignJWT({ sub: 'carol', room: 'ed-room', name: 'Carol', exp: now() + 60 }).setProtectedHeader({ alg: 'EdDSA' }).sign(privateKey);
  assert.ok('participants' in (await c.request('joinRoom', { roomId: 'ed-room', userId: 'carol', userName: 'x', token })));

  const refusedAtStart = (file: string) => {
    try {
      loadConfig({ AUTH_PUBLIC_KEY: file });
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.problems.join('\n');
    }
    return 'started';
  };
  assert.match(refusedAtStart(write('ed448.pem', crypto.generateKeyPairSync('ed448').publicKey)), /AUTH_PUBLIC_KEY=.* is a key of type ed448: room tokens can be verified with RSA/);
  assert.match(refusedAtStart(write('k1.pem', crypto.generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey)), /EC key on curve secp256k1: use P-256/);
  assert.equal(refusedAtStart(write('p384.pem', crypto.generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey)), 'started');
});
