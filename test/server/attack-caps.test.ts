/**
 * Issue 13, item 3: caps on what one room, one address and one participant hold at once. The attack
 * was 30 participants × 64 transports from one address, and one producer consumed 256 times.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PEER_LIMITS } from '../../src/rooms/RoomPolicy.ts';
import { joinWithTransports, mintRoom, produceCamera } from '../helpers/call.ts';
import { codeOf, connectClient, type TestClient } from '../helpers/client.ts';
import { startTestServer } from '../helpers/server.ts';

test('MAX_PARTICIPANTS: a full call refuses newcomers with limit_reached, yet a member takes its own seat back', async (t) => {
  const server = await startTestServer({ env: { MAX_PARTICIPANTS: '3' } });
  t.after(() => server.close());
  const roomId = await mintRoom(server, 'full-room');
  const members: TestClient[] = [];
  t.after(() => members.forEach((c) => c.close()));
  for (let i = 0; i < 3; i++) {
    const c = await connectClient(server.url);
    members.push(c);
    await c.ok('joinRoom', { roomId, userId: c.userId, userName: `M${i}` });
  }
  const late = await connectClient(server.url);
  members.push(late);
  const refused = await late.request('joinRoom', { roomId, userId: late.userId, userName: 'Late' });
  assert.equal(codeOf(refused), 'limit_reached');
  assert.match((refused as { error: string }).error, /full \(at most 3 participants\)/);
  const secret = members[0]!.received('seat')[0]!.reclaimSecret;
  const back = await connectClient(server.url, members[0]!.userId);
  members.push(back);
  assert.ok('participants' in (await back.request('joinRoom', { roomId, userId: back.userId, userName: 'M0', reclaimSecret: secret })));
  assert.equal(server.registry.get(roomId)!.peers.size, 3);
});

test('one address holds at most MAX_SEATS_PER_ADDRESS seats at once (an IPv6 /48 4× that), freed when it leaves', async (t) => {
  const server = await startTestServer({ env: { TRUST_PROXY: 'true', MAX_SEATS_PER_ADDRESS: '3' } });
  t.after(() => server.close());
  const clients: TestClient[] = [];
  t.after(() => clients.forEach((c) => c.close()));
  const seat = async (address: string, roomId: string) => {
    const c = await connectClient(server.url, undefined, { extraHeaders: { 'x-forwarded-for': address } });
    clients.push(c);
    await mintRoom(server, roomId);
    return { c, code: codeOf(await c.request('joinRoom', { roomId, userId: c.userId, userName: 'Seat' })) };
  };
  const seats = [];
  for (let i = 0; i < 5; i++) seats.push(await seat('198.51.100.60', `seat-room-${i}`));
  assert.deepEqual(seats.map((s) => s.code), [undefined, undefined, undefined, 'limit_reached', 'limit_reached']);
  await seats[0]!.c.ok('leaveRoom', { roomId: 'seat-room-0', userId: seats[0]!.c.userId });
  assert.equal((await seat('198.51.100.60', 'seat-room-5')).code, undefined, 'a freed seat can be taken again');
  // A /48 rotating through its /64s: 4 × 3 seats, then no more.
  const v6 = [];
  for (let i = 0; i < 14; i++) v6.push((await seat(`2001:db8:60:${(i * 256).toString(16)}::1`, `v6-seat-${i}`)).code);
  assert.equal(v6.filter((code) => code === undefined).length, 12);
});

test(`transports are capped at ${PEER_LIMITS.transports} per participant (a browser uses 2)`, async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const c = await joinWithTransports(server, 'transport-cap');
  t.after(() => c.close());
  assert.equal(PEER_LIMITS.transports, 8);
  const replies = await Promise.all(Array.from({ length: 62 }, () => c.request('createWebRtcTransport', { roomId: 'transport-cap', consuming: true })));
  assert.equal(replies.filter((r) => 'id' in r).length, 6);
  assert.ok(replies.filter((r) => !('id' in r)).every((r) => codeOf(r) === 'limit_reached'));
  assert.equal(server.registry.get('transport-cap')!.peers.get(c.userId)!.transports.size, 8);
});

test('one consumer per producer per participant: consuming it again is refused with invalid_request', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const owner = await joinWithTransports(server, 'consume-once', 'Owner');
  const viewer = await joinWithTransports(server, 'consume-once', 'Viewer');
  t.after(() => [owner, viewer].forEach((c) => c.close()));
  const producerId = await produceCamera(owner);
  const { rtpCapabilities } = await viewer.ok('getRouterRtpCapabilities', { roomId: 'consume-once' });
  // All at once, as the attack sent them: exactly one consumer comes out.
  const replies = await Promise.all(Array.from({ length: 20 }, () => viewer.request('consume', { producerId, rtpCapabilities })));
  assert.equal(replies.filter((r) => 'id' in r).length, 1);
  const refusals = replies.filter((r) => !('id' in r));
  assert.ok(refusals.every((r) => codeOf(r) === 'invalid_request' && /already consuming this producer/.test((r as { error: string }).error)));
  assert.equal(server.registry.get('consume-once')!.peers.get(viewer.userId)!.consumers.size, 1);
});
