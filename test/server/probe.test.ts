import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { joinWithTransports, workerCounts } from '../helpers/call.ts';
import { connectClient } from '../helpers/client.ts';
import { FAKE_DTLS, videoRtpParameters } from '../helpers/fixtures.ts';
import { SignJWT } from 'jose';
import { MAX_PROBES } from '../../src/rooms/RoomRegistry.ts';
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

    assert.match(errorOf(await probe.request('joinProbe', {}))!, /already in a room/);
    assert.match(errorOf(await probe.request('joinProbe', { roomId: 'x' } as never))!, /unexpected field/);
    // Without a token a probe gets one test transport and producer, and cannot watch anything.
    assert.match(errorOf(await probe.request('createWebRtcTransport', { roomId, consuming: true }))!, /at most 1 transports/);
    assert.match(errorOf(await probe.request('produce', { transportId: transport.id, kind: 'video', rtpParameters: videoRtpParameters(), appData: {} }))!, /at most 1 producers/);
    assert.match(errorOf(await probe.request('consume', { producerId, rtpCapabilities }))!, /cannot consume/);
  });

  test('leaving a probe ends it at once and disarms its expiry; the socket may then join a call', async (t) => {
    const probe = await connectClient(server.url);
    t.after(() => probe.close());
    const { roomId } = await probe.ok('joinProbe', {});
    const session = server.signaling.connections.get(probe.socket.id!)!.session;
    assert.ok(session.probeExpiry, 'armed');
    assert.deepEqual(await probe.ok('leaveRoom', { roomId, userId: 'probe' }), {});
    assert.equal(server.registry.get(roomId), undefined, 'closed at once, no grace period');
    assert.equal(session.probeExpiry, undefined, 'disarmed');
  });

  test('a probe room cannot be joined, even by someone who learns its id', async (t) => {
    const probe = await connectClient(server.url);
    const intruder = await connectClient(server.url);
    t.after(() => [probe, intruder].forEach((c) => c.close()));
    const { roomId } = await probe.ok('joinProbe', {});
    const token = await new SignJWT({ room: roomId, name: 'Intruder', exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    assert.match(errorOf(await intruder.request('joinRoom', { roomId, userId: intruder.userId, userName: 'I', token }))!, /connection check/);
    assert.equal(server.registry.get(roomId)!.peers.size, 1);
  });

  test(`at most ${MAX_PROBES} probes run at once, server-wide`, async (t) => {
    const clients = await Promise.all(Array.from({ length: MAX_PROBES + 1 }, () => connectClient(server.url)));
    t.after(() => clients.forEach((c) => c.close()));
    const replies = [];
    for (const c of clients) replies.push(await c.request('joinProbe', {}));
    assert.equal(replies.filter((r) => errorOf(r) === undefined).length, MAX_PROBES);
    assert.match(errorOf(replies.at(-1))!, /too many connection checks/);
    assert.equal(server.registry.probes, MAX_PROBES);
    clients[0]!.close();
    await waitFor(() => server.registry.probes === MAX_PROBES - 1, { what: 'a probe slot freed' });
    assert.equal(errorOf(await clients.at(-1)!.request('joinProbe', {})), undefined);
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
  const joiner = await connectClient(server.url, undefined, from);
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
