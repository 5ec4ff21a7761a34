import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { joinWithTransports, mintRoom, workerCounts } from '../helpers/call.ts';
import { codeOf, connectClient, type TestClient } from '../helpers/client.ts';
import { FAKE_DTLS, videoRtpParameters } from '../helpers/fixtures.ts';
import { SignJWT } from 'jose';
import { MAX_PROBES, MAX_PROBES_PER_OWNER } from '../../src/rooms/RoomRegistry.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

const errorOf = (reply: unknown) => (reply && typeof reply === 'object' && 'error' in reply ? String(reply.error) : undefined);

/**
 * joinProbe: the connectivity page's private room of one. It must work where joining a call needs a
 * token, spend no join budget, be invisible to everyone else, and vanish with its socket.
 */
describe('connectivity probe (joinProbe)', () => {
  let server: Parley;
  const secret = crypto.randomBytes(32).toString('base64url');
  before(async () => {
    server = await startTestServer({ env: { AUTH_SECRET: secret } });
  });
  after(async () => {
    await server.close();
  });

  test('works without a token and carries a whole send path: transport, DTLS, produce', async (t) => {
    const probe = await connectClient(server.url);
    t.after(() => probe.close());
    assert.match(errorOf(await probe.request('joinRoom', { roomId: 'needs-token', userId: probe.userId, userName: 'P' }))!, /token/);

    const { roomId, expiresInMs } = await probe.ok('joinProbe', {});
    assert.match(roomId, /^probe-[A-Za-z0-9_-]{16}$/);
    assert.ok(expiresInMs > 0);
    const { rtpCapabilities } = await probe.ok('getRouterRtpCapabilities', { roomId });
    assert.ok(rtpCapabilities.codecs!.length > 0);
    const transport = await probe.ok('createWebRtcTransport', { roomId, producing: true, consuming: false });
    assert.ok(transport.iceCandidates.some((c) => c.protocol === 'udp' && c.port === server.config.rtcPort));
    await probe.ok('connectWebRtcTransport', { transportId: transport.id, dtlsParameters: FAKE_DTLS });
    const { producerId } = await probe.ok('produce', { transportId: transport.id, kind: 'video', rtpParameters: videoRtpParameters(), appData: { type: 'probe' } });
    assert.deepEqual(await workerCounts(server, [roomId]), { routers: 1, transports: 1, producers: 1, consumers: 0 });
    assert.ok(producerId);

    const again = await probe.request('joinProbe', {});
    assert.match(errorOf(again)!, /already in a room/);
    assert.equal(codeOf(again), 'already_joined');
    assert.match(errorOf(await probe.request('joinProbe', { roomId: 'x' } as never))!, /unexpected field/);
    // Without a token a probe gets one test transport and producer, and cannot watch anything.
    const secondTransport = await probe.request('createWebRtcTransport', { roomId, consuming: true });
    assert.match(errorOf(secondTransport)!, /at most 1 transports/);
    assert.equal(codeOf(secondTransport), 'limit_reached');
    assert.match(errorOf(await probe.request('produce', { transportId: transport.id, kind: 'video', rtpParameters: videoRtpParameters(), appData: {} }))!, /at most 1 producers/);
    const consumed = await probe.request('consume', { producerId, rtpCapabilities });
    assert.match(errorOf(consumed)!, /cannot consume/);
    assert.equal(codeOf(consumed), 'limit_reached');
  });


  test('a probe room cannot be joined, even by someone who learns its id', async (t) => {
    const probe = await connectClient(server.url);
    const intruder = await connectClient(server.url);
    t.after(() => [probe, intruder].forEach((c) => c.close()));
    const { roomId } = await probe.ok('joinProbe', {});
    const token = await new SignJWT({ sub: intruder.userId, room: roomId, name: 'Intruder', exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    const refused = await intruder.request('joinRoom', { roomId, userId: intruder.userId, userName: 'I', token });
    assert.match(errorOf(refused)!, /connection check/);
    assert.equal(codeOf(refused), 'invalid_request');
    assert.equal(server.registry.get(roomId)!.peers.size, 1);
  });


  test('a disconnect ends the probe: its room, router and transport are gone', async () => {
    const probe = await connectClient(server.url);
    const { roomId } = await probe.ok('joinProbe', {});
    await probe.ok('createWebRtcTransport', { roomId, producing: true, consuming: false });
    const routerId = server.registry.get(roomId)!.router.id;
    const routerIds = async () => (await Promise.all(server.pool.workers.map(async ({ worker }) => (await worker.dump()).routerIds))).flat();
    assert.ok((await routerIds()).includes(routerId));
    probe.close();
    await waitFor(() => server.registry.get(roomId) === undefined, { what: 'probe room closed' });
    assert.ok(!(await routerIds()).includes(routerId), 'the worker no longer has the probe router');
  });
});

test('probes spend their own budget, not the join budget, and are limited per address', async (t) => {
  const server = await startTestServer({ env: { RATE_JOINS_PER_MINUTE: '1', RATE_PROBES_PER_MINUTE: '2', TRUST_PROXY: 'true' } });
  t.after(() => server.close());
  const from = { extraHeaders: { 'x-forwarded-for': '198.51.100.20' } };
  const clients = await Promise.all([0, 1, 2].map(() => connectClient(server.url, undefined, from)));
  t.after(() => clients.forEach((c) => c.close()));
  const probes = [];
  for (const c of clients) probes.push(await c.request('joinProbe', {}));
  assert.deepEqual(probes.map(errorOf), [undefined, undefined, 'rate limited: too many requests, slow down']);
  assert.equal(codeOf(probes[2]), 'rate_limited');
  const joiner = await connectClient(server.url, undefined, from);
  await mintRoom(server, 'after-probes');
  t.after(() => joiner.close());
  assert.equal(errorOf(await joiner.request('joinRoom', { roomId: 'after-probes', userId: joiner.userId, userName: 'J' })), undefined, 'probes left the join budget alone');
});

describe('probes are private', () => {
  let server: Parley;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  test('nobody in a call hears of a probe, and a probe cannot see into a call', async (t) => {
    const member = await joinWithTransports(server, 'busy-room', 'Member');
    t.after(() => member.close());
    await member.ok('produce', { transportId: member.sendTransportId, kind: 'video', rtpParameters: videoRtpParameters(), appData: { type: 'camera' } });
    const probe = await connectClient(server.url);
    t.after(() => probe.close());
    const { roomId } = await probe.ok('joinProbe', {});
    const transport = await probe.ok('createWebRtcTransport', { roomId, producing: true, consuming: false });
    await probe.ok('produce', { transportId: transport.id, kind: 'video', rtpParameters: videoRtpParameters(), appData: { type: 'probe' } });

    assert.deepEqual((await probe.ok('getProducers', { roomId })).producers, []);
    assert.match(errorOf(await probe.request('getProducers', { roomId: 'busy-room' }))!, /roomId does not match/);
    // A round trip on the member's socket: anything the probe caused would have arrived before this reply.
    await member.ok('getProducers', { roomId: 'busy-room' });
    assert.deepEqual(member.received('userJoined'), []);
    assert.deepEqual(member.received('newProducer'), []);
    assert.equal(server.registry.get('busy-room')!.peers.size, 1);
  });
});

describe('probe lifetime and capacity', () => {
  let server: Parley;
  before(async () => {
    server = await startTestServer({ workers: 1, probeLifetimeMs: 400, env: { TRUST_PROXY: 'true' } });
  });
  after(async () => {
    await server.close();
  });
  const from = (address: string) => connectClient(server.url, undefined, { extraHeaders: { 'x-forwarded-for': address } });

  test('a probe that outstays its lifetime is ended by the server', async (t) => {
    const probe = await from('198.51.100.30');
    t.after(() => probe.close());
    const { roomId, expiresInMs } = await probe.ok('joinProbe', {});
    assert.equal(expiresInMs, 400);
    await waitFor(() => !probe.socket.connected, { what: 'the server to close the probe socket' });
    await waitFor(() => server.registry.get(roomId) === undefined, { what: 'the probe room to close' });
  });

  test('leaving a probe ends it at once and disarms its expiry: the socket can then stay in a call', async (t) => {
    const probe = await from('198.51.100.31');
    t.after(() => probe.close());
    const { roomId } = await probe.ok('joinProbe', {});
    assert.deepEqual(await probe.ok('leaveRoom', { roomId, userId: 'probe' }), {});
    assert.equal(server.registry.get(roomId), undefined, 'closed at once, no grace period');
    await mintRoom(server, 'after-probe');
    await probe.ok('joinRoom', { roomId: 'after-probe', userId: probe.userId, userName: 'Stays' });
    await new Promise((resolve) => setTimeout(resolve, 1000)); // well past the 400 ms lifetime
    assert.equal(probe.socket.connected, true);
    assert.equal(server.registry.get('after-probe')!.peers.size, 1);
  });

  test(`at most ${MAX_PROBES_PER_OWNER} probes per address and ${MAX_PROBES} server-wide run at once`, async (t) => {
    const slow = await startTestServer({ env: { TRUST_PROXY: 'true', RATE_PROBES_PER_MINUTE: '0' } });
    t.after(() => slow.close());
    const clients: TestClient[] = [];
    t.after(() => clients.forEach((c) => c.close()));
    const codes: unknown[] = [];
    const probeFrom = async (address: string) => {
      const c = await connectClient(slow.url, undefined, { extraHeaders: { 'x-forwarded-for': address } });
      clients.push(c);
      const reply = await c.request('joinProbe', {});
      codes.push(codeOf(reply));
      return errorOf(reply);
    };
    // One address (an IPv6 /64 counts as one).
    assert.deepEqual([await probeFrom('2001:db8:5:5::1'), await probeFrom('2001:db8:5:5::2')], [undefined, undefined]);
    assert.match((await probeFrom('2001:db8:5:5::3'))!, /from your address are already running/);
    // Server-wide.
    for (let i = 0; slow.registry.probes < MAX_PROBES; i++) assert.equal(await probeFrom(`198.51.100.${100 + i}`), undefined);
    assert.match((await probeFrom('203.0.113.1'))!, /too many connection checks/);
    assert.deepEqual(codes.filter(Boolean), ['limit_reached', 'limit_reached'], 'both caps answer limit_reached');
    clients[0]!.close();
    await waitFor(() => slow.registry.probes === MAX_PROBES - 1, { what: 'a probe slot freed' });
    assert.equal(await probeFrom('203.0.113.1'), undefined);
  });

  test('a probe whose media worker dies is told, like a call', async (t) => {
    const probe = await from('198.51.100.32');
    t.after(() => probe.close());
    const { roomId } = await probe.ok('joinProbe', {});
    process.kill(server.registry.get(roomId)!.mediaWorker.worker.pid, 'SIGKILL');
    await waitFor(() => probe.received('roomClosed').length === 1, { what: 'roomClosed for the probe' });
    assert.deepEqual(probe.received('roomClosed'), [{ roomId, reason: 'worker-died' }]);
    await waitFor(() => server.pool.healthy, { what: 'the worker replaced' });
  });
});
