import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { PEER_LIMITS } from '../../src/rooms/RoomPolicy.ts';
import { ERROR_CODES, type ErrorCode, type ErrorReply } from '../../src/signaling/protocol.ts';
import { joinWithTransports, mintRoom, produceCamera, workerCounts } from '../helpers/call.ts';
import { connectClient, type TestClient } from '../helpers/client.ts';
import { FAKE_DTLS, videoRtpParameters } from '../helpers/fixtures.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

let server: Parley;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

/** Sends anything at all (bypassing the typed map) and returns the ack. */
function raw(client: TestClient, event: string, ...args: unknown[]): Promise<unknown> {
  return (client.socket.timeout(5000) as unknown as { emitWithAck(e: string, ...a: unknown[]): Promise<unknown> }).emitWithAck(event, ...args);
}

/** An error ack is exactly {error, code}: a sentence and a code from ERROR_CODES (the one expected, when given). */
function assertError(reply: unknown, pattern?: RegExp, code?: ErrorCode): void {
  assert.ok(reply && typeof reply === 'object' && 'error' in reply, `expected an error ack, got ${JSON.stringify(reply)}`);
  assert.equal(typeof (reply as { error: unknown }).error, 'string');
  assert.deepEqual(Object.keys(reply as object).sort(), ['code', 'error'], 'error ack is exactly {error, code}');
  assert.ok(ERROR_CODES.includes((reply as ErrorReply).code), `unknown code ${(reply as ErrorReply).code}`);
  if (pattern) assert.match((reply as ErrorReply).error, pattern);
  if (code) assert.equal((reply as ErrorReply).code, code, (reply as ErrorReply).error);
}

describe('bad input gets an error ack and the server keeps serving', () => {
  test('malformed joinRoom payloads', async () => {
    const c = await connectClient(server.url);
    const cases: unknown[] = [
      undefined,
      null,
      42,
      'room',
      [],
      {},
      { roomId: 'ok', userId: 'u1' },
      { roomId: 'bad room!', userId: 'u1', userName: 'X' },
      { roomId: 'x'.repeat(65), userId: 'u1', userName: 'X' },
      { roomId: 'ok', userId: 'u1', userName: '' },
      { roomId: 'ok', userId: 'u1', userName: '    ' },
      { roomId: 'ok', userId: 'u1', userName: 'x'.repeat(41) },
      { roomId: 'ok', userId: 'u1', userName: 'tab\there' },
      { roomId: 'ok', userId: 'u1', userName: 'nul\u0000' },
      { roomId: 'ok', userId: 'u 1', userName: 'X' },
      { roomId: 'ok', userId: 'u1', userName: 'X', admin: true },
      JSON.parse('{"roomId":"ok","userId":"u1","userName":"X","__proto__":{"polluted":true}}'),
      { roomId: { $gt: '' }, userId: 'u1', userName: 'X' },
    ];
    for (const payload of cases) assertError(await raw(c, 'joinRoom', payload), undefined, 'invalid_payload');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(server.registry.get('ok'), undefined, 'no room was created by invalid joins');
    // Still serving the same socket.
    await mintRoom(server, 'ok');
    assert.ok('participants' in (await c.request('joinRoom', { roomId: 'ok', userId: c.userId, userName: 'Fine' })));
    c.close();
  });

  test('names of exactly 40 characters (even emoji) are accepted, 41 refused', async () => {
    const c = await connectClient(server.url);
    const forty = '😀'.repeat(40);
    await mintRoom(server, 'names');
    assert.ok('participants' in (await c.request('joinRoom', { roomId: 'names', userId: c.userId, userName: forty })));
    await c.ok('leaveRoom', { roomId: 'names', userId: c.userId });
    assertError(await c.request('joinRoom', { roomId: 'names', userId: c.userId, userName: forty + 'x' }), /1-40/);
    c.close();
  });

  test('every request before joinRoom is refused', async () => {
    const c = await connectClient(server.url);
    const replies = await Promise.all([
      c.request('leaveRoom', { roomId: 'r', userId: c.userId }),
      c.request('getRouterRtpCapabilities', { roomId: 'r' }),
      c.request('createWebRtcTransport', { roomId: 'r', producing: true, consuming: false }),
      c.request('connectWebRtcTransport', { transportId: 'x', dtlsParameters: FAKE_DTLS }),
      c.request('produce', { transportId: 'x', kind: 'video', rtpParameters: videoRtpParameters() }),
      c.request('consume', { producerId: 'x', rtpCapabilities: {} }),
      c.request('resumeConsumer', { consumerId: 'x' }),
      c.request('restartIce', { transportId: 'x' }),
      c.request('producerClosed', { producerId: 'x' }),
      c.request('getProducers', { roomId: 'r' }),
    ]);
    for (const reply of replies) assertError(reply, /joinRoom first/, 'not_joined');
    c.close();
  });

  test('unknown events get an error ack; events without an ack drop the connection', async () => {
    const c = await connectClient(server.url);
    assertError(await raw(c, 'deleteEverything', {}), /unknown event/, 'unknown_request');
    assertError(await raw(c, 'joinRoom', { roomId: 'a', userId: 'b', userName: 'c' }, 'extra'), /one payload/, 'invalid_payload');
    const disconnected = new Promise((resolve) => c.socket.once('disconnect', resolve));
    (c.socket as unknown as { emit(...args: unknown[]): void }).emit('joinRoom', { roomId: 'a', userId: 'b', userName: 'c' });
    await disconnected;
    const d = await connectClient(server.url);
    await mintRoom(server, 'after-drop');
    assert.ok('participants' in (await d.request('joinRoom', { roomId: 'after-drop', userId: d.userId, userName: 'D' })));
    d.close();
  });

  test('ids of another peer or another room are refused and change nothing', async () => {
    const victim = await joinWithTransports(server, 'victim-room', 'Victim');
    const victimProducer = await produceCamera(victim);
    const attacker = await joinWithTransports(server, 'attacker-room', 'Attacker');
    const roommate = await joinWithTransports(server, 'victim-room', 'Roommate');
    const { rtpCapabilities } = await attacker.ok('getRouterRtpCapabilities', { roomId: 'attacker-room' });
    const before = await workerCounts(server, ['victim-room', 'attacker-room']);

    for (const client of [attacker, roommate]) {
      assertError(await client.request('connectWebRtcTransport', { transportId: victim.recvTransportId, dtlsParameters: FAKE_DTLS }), /unknown transportId/, 'not_found');
      assertError(await client.request('produce', { transportId: victim.sendTransportId, kind: 'video', rtpParameters: videoRtpParameters() }), /unknown transportId/);
      assertError(await client.request('restartIce', { transportId: victim.sendTransportId }), /unknown transportId/);
      assertError(await client.request('producerClosed', { producerId: victimProducer }), /unknown producerId/, 'not_found');
      assertError(await client.request('pauseProducer', { producerId: victimProducer }), /unknown producerId/);
    }
    // Consuming needs the producer to be in the caller's room.
    assertError(await attacker.request('consume', { producerId: victimProducer, rtpCapabilities }), /unknown producerId/);
    // The roommate may consume, but only through its own transport.
    assertError(await roommate.request('consume', { producerId: victimProducer, rtpCapabilities, transportId: victim.recvTransportId }), /unknown transportId/);
    const consumer = await roommate.ok('consume', { producerId: victimProducer, rtpCapabilities });
    assertError(await attacker.request('resumeConsumer', { consumerId: consumer.id }), /unknown consumerId/, 'not_found');
    // Room-scoped requests for another room.
    assertError(await attacker.request('getProducers', { roomId: 'victim-room' }), /does not match/, 'not_joined');
    assertError(await attacker.request('createWebRtcTransport', { roomId: 'victim-room', producing: true, consuming: false }), /does not match/);
    assertError(await attacker.request('leaveRoom', { roomId: 'attacker-room', userId: victim.userId }), /does not match/, 'invalid_request');
    // A second join with the victim's userId must not take over.
    const impostor = await connectClient(server.url, victim.userId);
    assertError(await impostor.request('joinRoom', { roomId: 'victim-room', userId: victim.userId, userName: 'Impostor' }), /already in this room/, 'seat_taken');
    assert.equal(victim.socket.connected, true);
    assert.equal(server.registry.get('victim-room')!.peers.get(victim.userId)!.userName, 'Victim');

    const afterCounts = await workerCounts(server, ['victim-room', 'attacker-room']);
    assert.deepEqual(afterCounts, { ...before, consumers: before.consumers + 1 });
    assert.equal(server.registry.get('victim-room')!.peers.get(victim.userId)!.producers.size, 1);
    for (const c of [victim, attacker, roommate, impostor]) c.close();
  });

  test('garbage rtpParameters and dtlsParameters are refused with a clear message', async () => {
    const c = await joinWithTransports(server, 'garbage-room');
    const rtp = videoRtpParameters();
    assertError(await raw(c, 'produce', { transportId: c.sendTransportId, kind: 'video', rtpParameters: { ...rtp, codecs: [] } }), /codecs/, 'invalid_payload');
    assertError(await raw(c, 'produce', { transportId: c.sendTransportId, kind: 'video', rtpParameters: { ...rtp, codecs: [{ ...rtp.codecs[0], mimeType: 'video/NOPE' }] } }), /produce failed/, 'media_rejected');
    assertError(await raw(c, 'produce', { transportId: c.sendTransportId, kind: 'audio', rtpParameters: rtp }), /do not match kind/);
    assertError(await raw(c, 'produce', { transportId: c.recvTransportId, kind: 'video', rtpParameters: rtp }), /not created for producing/, 'invalid_request');
    assertError(await raw(c, 'produce', { transportId: c.sendTransportId, kind: 'video', rtpParameters: rtp, appData: { nested: { deep: 1 } } }), /appData/);
    assertError(await raw(c, 'connectWebRtcTransport', { transportId: c.recvTransportId, dtlsParameters: { fingerprints: [] } }), /fingerprints/);
    assertError(await raw(c, 'connectWebRtcTransport', { transportId: c.sendTransportId, dtlsParameters: FAKE_DTLS }), /already connected/, 'invalid_request');
    assertError(await raw(c, 'createWebRtcTransport', { roomId: 'garbage-room', producing: 'yes' }), /producing/);
    assertError(await raw(c, 'createWebRtcTransport', { roomId: 'garbage-room', producing: false, consuming: false }), /producing, consuming or both/);
    let deep: unknown = {};
    for (let i = 0; i < 200; i++) deep = { a: deep };
    assertError(await raw(c, 'produce', { transportId: c.sendTransportId, kind: 'video', rtpParameters: deep }));
    assertError(await raw(c, 'consume', { producerId: 'nope', rtpCapabilities: { codecs: 'x' } }));
    // Still fine afterwards.
    assert.ok(await produceCamera(c));
    c.close();
  });

  test('an oversized frame drops only that socket', async () => {
    const bystander = await joinWithTransports(server, 'big-room');
    const big = await connectClient(server.url);
    const dropped = new Promise((resolve) => big.socket.once('disconnect', resolve));
    (big.socket as unknown as { emit(...args: unknown[]): void }).emit('joinRoom', { roomId: 'big-room', userId: 'big', userName: 'x'.repeat(200_000) }, () => {});
    await dropped;
    assert.equal(bystander.socket.connected, true);
    assert.ok((await bystander.ok('getProducers', { roomId: 'big-room' })).producers);
    bystander.close();
  });

  test('per-peer limits on transports, also against a burst of concurrent requests', async () => {
    const c = await joinWithTransports(server, 'limit-room');
    // Requests of one socket run concurrently: the limit must hold for all of them at once.
    const burst = await Promise.all(Array.from({ length: PEER_LIMITS.transports - 2 + 1 }, () => c.request('createWebRtcTransport', { roomId: 'limit-room', consuming: true })));
    assert.equal(burst.filter((r) => 'id' in r).length, PEER_LIMITS.transports - 2);
    assert.deepEqual(burst.filter((r) => 'error' in r).map((r) => 'error' in r && r.code), ['limit_reached']);
    assert.equal(server.registry.get('limit-room')!.peers.get(c.userId)!.transports.size, PEER_LIMITS.transports);
    assertError(await c.request('createWebRtcTransport', { roomId: 'limit-room', producing: true, consuming: false }), new RegExp(`at most ${PEER_LIMITS.transports}`), 'limit_reached');
    c.close();
    await waitFor(() => server.registry.get('limit-room') === undefined, { what: 'room closed' });
  });
});
