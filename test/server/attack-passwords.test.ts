/**
 * Issue 13, item 2: password guessing. A room's wrong-password budget is the room's, whatever
 * addresses the guesses come from; IPv6 budgets aggregate at /56 and /48; scrypt work is capped so
 * guesses cannot starve the thread pool that serves files.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { backoffSeconds, FREE_GUESSES } from '../../src/auth/guessBudget.ts';
import { hashPassword, passwordWork } from '../../src/auth/passwords.ts';
import { mintRoom } from '../helpers/call.ts';
import { codeOf, connectClient, type TestClient } from '../helpers/client.ts';
import { startRedis } from '../helpers/redis.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

const from = (server: Parley, address: string) => connectClient(server.url, undefined, { extraHeaders: { 'x-forwarded-for': address } });

async function passwordRoom(server: Parley, password: string): Promise<string> {
  const res = await fetch(`${server.url}/rooms`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' }, body: `password=${password}` });
  return /\/r\/([A-Za-z0-9_-]+)/.exec(await res.text())![1]!;
}

test('guesses rotating through 65,536 /64s of one /48 share the room\'s budget; the owner gets in after a short wait', async (t) => {
  const server = await startTestServer({ env: { TRUST_PROXY: 'true', RATE_JOINS_PER_MINUTE: '30' } });
  t.after(() => server.close());
  const roomId = await passwordRoom(server, 'correct-horse');
  const clients: TestClient[] = [];
  t.after(() => clients.forEach((c) => c.close()));
  const codes = [];
  for (let i = 0; i < 12; i++) {
    const c = await from(server, `2001:db8:77:${i.toString(16)}::1`);
    clients.push(c);
    codes.push(codeOf(await c.request('joinRoom', { roomId, userId: c.userId, userName: 'Guesser', password: `guess-${i}` })));
  }
  // FREE_GUESSES wrong answers, one more after a 1 s back-off turn, then refused without a check.
  assert.deepEqual(codes, [...Array<string>(FREE_GUESSES + 1).fill('password_wrong'), ...Array<string>(12 - FREE_GUESSES - 1).fill('rate_limited')]);
  assert.deepEqual([6, 7, 8, 12, 30].map(backoffSeconds), [1, 2, 4, 60, 60], 'the wait doubles up to a minute');
  // The owner, from anywhere, waits out the current turn and is let in; refused attempts never counted.
  const owner = await from(server, '198.51.100.200');
  clients.push(owner);
  const first = await owner.request('joinRoom', { roomId, userId: owner.userId, userName: 'Owner', password: 'correct-horse' });
  assert.equal(codeOf(first), 'rate_limited');
  assert.match((first as { error: string }).error, /too many wrong passwords for this room: try again in \d+ s/);
  await waitFor(async () => 'participants' in (await owner.request('joinRoom', { roomId, userId: owner.userId, userName: 'Owner', password: 'correct-horse' })), { timeoutMs: 10_000, intervalMs: 250, what: 'the owner admitted' });
});

test('the budget is shared through Redis: guesses spread over two servers count once', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const a = await startTestServer({ redisUrl: redis.url });
  t.after(() => a.close());
  const b = await startTestServer({ redisUrl: redis.url });
  t.after(() => b.close());
  const roomId = await passwordRoom(a, 'hunter22');
  const codes = [];
  for (let i = 0; i < FREE_GUESSES + 2; i++) {
    const c = await connectClient((i % 2 ? b : a).url);
    codes.push(codeOf(await c.request('joinRoom', { roomId, userId: c.userId, userName: 'G', password: `nope-${i}` })));
    c.close();
  }
  assert.deepEqual(codes.slice(-2), ['password_wrong', 'rate_limited']);
});

test('IPv6 budgets aggregate: a /48 rotating through /56s and /64s has 4× one address\'s joins, not 65,536×', async (t) => {
  const server = await startTestServer({ env: { TRUST_PROXY: 'true', RATE_JOINS_PER_MINUTE: '2' } });
  t.after(() => server.close());
  const roomId = await mintRoom(server, 'v6-aggregate');
  let admitted = 0;
  for (let i = 0; i < 12; i++) {
    // A fresh /56 (and so a fresh /64) every time, all in 2001:db8:88::/48.
    const c = await from(server, `2001:db8:88:${(i * 256).toString(16)}::1`);
    const reply = await c.request('joinRoom', { roomId, userId: c.userId, userName: 'Rotor' });
    if ('participants' in reply) admitted++;
    else assert.equal(codeOf(reply), 'rate_limited');
    c.close();
  }
  assert.equal(admitted, 8, 'the /48 budget (4 × 2 joins) holds');
  // Inside one /56: 2× the budget.
  const server56 = await startTestServer({ env: { TRUST_PROXY: 'true', RATE_JOINS_PER_MINUTE: '2' } });
  t.after(() => server56.close());
  await mintRoom(server56, roomId);
  let admitted56 = 0;
  for (let i = 0; i < 8; i++) {
    const c = await from(server56, `2001:db8:99:${i.toString(16)}::1`);
    if ('participants' in (await c.request('joinRoom', { roomId, userId: c.userId, userName: 'Rotor' }))) admitted56++;
    c.close();
  }
  assert.equal(admitted56, 4);
});

test('a flood of guesses (limits off) cannot starve file serving: scrypt work is capped, the excess refused', async (t) => {
  const server = await startTestServer(); // every rate limit off, as in the attack
  t.after(() => server.close());
  // 50 password rooms; 4 guesses at each stay inside every room's free budget, so only the cap can stop them.
  const passwordHash = await hashPassword('secret-password');
  const rooms = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    await server.store.registerRoom(`pw-flood-${i}`, { passwordHash });
    return `pw-flood-${i}`;
  }));
  // Joins of one socket run one after another: 40 sockets make 40 concurrent guesses.
  const guessers = await Promise.all(Array.from({ length: 40 }, () => connectClient(server.url)));
  t.after(() => guessers.forEach((c) => c.close()));
  passwordWork.peak = 0;
  const guesses = rooms.flatMap((roomId) => Array.from({ length: 4 }, (_, k) => ({ roomId, k })));
  const flood = Promise.all(guesses.map(({ roomId, k }, i) => guessers[i % 40]!.request('joinRoom', { roomId, userId: `g${i}`, userName: 'G', password: `wrong-${k}` })));
  // While 200 scrypt runs are asked for, a static file still comes at once (it used to take seconds).
  const latencies = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const res = await fetch(`${server.url}/css/app.css`, { headers: { 'cache-control': 'no-cache' } });
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    latencies.push(performance.now() - started);
  }
  const replies = await flood;
  // The median, not the worst: one slow answer is the machine's other load; starvation slows them all.
  const median = [...latencies].sort((a, b) => a - b)[2]!;
  assert.ok(median < 1000, `static file latencies under the flood: ${latencies.map(Math.round).join(', ')} ms`);
  assert.ok(passwordWork.peak <= 2, `at most 2 scrypt runs at once (saw ${passwordWork.peak})`);
  const codes = replies.map(codeOf);
  assert.ok(codes.every((c) => c === 'password_wrong' || c === 'rate_limited'), `every guess answered: ${[...new Set(codes)].join(', ')}`);
  assert.ok(codes.includes('rate_limited'), 'the excess is turned away rather than queued without end');
});
