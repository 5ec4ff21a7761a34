import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { joinWithTransports, mintRoom, produceCamera, produceMic, workerCounts } from '../helpers/call.ts';
import { connectClient, seated } from '../helpers/client.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

let server: Parley;
before(async () => {
  server = await startTestServer({ workers: 2 });
});
after(async () => {
  await server.close();
});

/** Earlier tests' rooms close after their grace period: counts of routers and load start from none. */
const noRoomsLeft = () => waitFor(() => server.registry.size === 0, { what: 'earlier rooms to close', timeoutMs: 15_000 });

describe('signaling flow against a real worker', () => {
  test('two clients join, produce, see newProducer, consume and resume', async () => {
    const roomId = 'flow-two';
    const alice = await joinWithTransports(server, roomId, 'Alice');
    const bob = await connectClient(server.url);
    const joined = await bob.ok('joinRoom', { roomId, userId: bob.userId, userName: '  Bob  ' });
    assert.deepEqual(seated(joined).participants, [{ userId: alice.userId, userName: 'Alice' }]);
    await waitFor(() => alice.received('userJoined').length === 1, { what: 'userJoined' });
    assert.deepEqual(alice.received('userJoined')[0], { userId: bob.userId, userName: 'Bob' });

    const { rtpCapabilities } = await bob.ok('getRouterRtpCapabilities', { roomId });
    assert.ok(rtpCapabilities.codecs!.some((c) => c.mimeType === 'video/VP8'));
    for (const mime of ['audio/opus', 'video/VP9', 'video/H264']) {
      assert.ok(rtpCapabilities.codecs!.some((c) => c.mimeType === mime), mime);
    }
    const h264Profiles = rtpCapabilities.codecs!.filter((c) => c.mimeType === 'video/H264').map((c) => c.parameters?.['profile-level-id']);
    assert.deepEqual(new Set(h264Profiles), new Set(['42001f', '42e01f']));

    const recv = await bob.ok('createWebRtcTransport', { roomId, producing: false, consuming: true });
    assert.match(recv.id, /^[0-9a-f-]{36}$/);
    assert.ok(recv.iceCandidates.length >= 2, 'udp and tcp candidates');
    assert.deepEqual(new Set(recv.iceCandidates.map((c) => c.port)), new Set([server.pool.workers.find((w) => w.worker === server.registry.get(roomId)!.mediaWorker.worker)!.port]));
    assert.ok(recv.dtlsParameters.fingerprints.length > 0);

    const cameraId = await produceCamera(alice);
    await waitFor(() => bob.received('newProducer').length === 1, { what: 'newProducer' });
    assert.deepEqual(bob.received('newProducer')[0], { producerId: cameraId, userId: alice.userId, kind: 'video', appData: { type: 'camera' } });

    const consumed = await bob.ok('consume', { producerId: cameraId, rtpCapabilities });
    assert.equal(consumed.producerId, cameraId);
    assert.equal(consumed.kind, 'video');
    assert.equal(consumed.userId, alice.userId);
    assert.deepEqual(consumed.appData, { type: 'camera' });
    const room = server.registry.get(roomId)!;
    const serverConsumer = room.peers.get(bob.userId)!.consumers.get(consumed.id)!;
    assert.equal(serverConsumer.paused, true, 'created paused');
    assert.deepEqual(await bob.ok('resumeConsumer', { consumerId: consumed.id }), {});
    assert.equal(serverConsumer.paused, false);

    const { producers } = await bob.ok('getProducers', { roomId });
    assert.deepEqual(producers.map((p) => p.producerId), [cameraId]);
    assert.deepEqual((await alice.ok('getProducers', { roomId })).producers, []);

    const restarted = await bob.ok('restartIce', { transportId: recv.id });
    assert.ok(restarted.iceParameters.usernameFragment);

    alice.close();
    bob.close();
  });

  test('three clients: everyone consumes everyone, leave and disconnect clean up', async () => {
    const roomId = 'flow-three';
    const clients = [];
    for (const name of ['A', 'B', 'C']) clients.push(await joinWithTransports(server, roomId, name));
    const [a, b, c] = clients as [typeof clients[0], typeof clients[0], typeof clients[0]];
    const producerIds = new Map<string, string[]>();
    for (const client of clients) producerIds.set(client.userId, [await produceCamera(client), await produceMic(client)]);

    const { rtpCapabilities } = await a.ok('getRouterRtpCapabilities', { roomId });
    for (const client of clients) {
      const { producers } = await client.ok('getProducers', { roomId });
      assert.equal(producers.length, 4);
      for (const p of producers) {
        const consumer = await client.ok('consume', { producerId: p.producerId, rtpCapabilities, transportId: client.recvTransportId });
        await client.ok('resumeConsumer', { consumerId: consumer.id });
      }
    }
    assert.deepEqual(await workerCounts(server).then((t) => ({ ...t, routers: undefined })), { routers: undefined, transports: 6, producers: 6, consumers: 12 });

    // Explicit leave: others hear producerClosed for each producer, then userLeft.
    assert.deepEqual(await c.ok('leaveRoom', { roomId, userId: c.userId }), {});
    for (const other of [a, b]) {
      await waitFor(() => other.received('userLeft').some((e) => e.userId === c.userId), { what: 'userLeft C' });
      const closed = other.received('producerClosed').map((e) => e.producerId);
      assert.deepEqual(new Set(closed), new Set(producerIds.get(c.userId)));
    }
    assert.deepEqual(await workerCounts(server).then((t) => ({ ...t, routers: undefined })), { routers: undefined, transports: 4, producers: 4, consumers: 4 });

    // Disconnect is a leave too.
    b.close();
    await waitFor(() => a.received('userLeft').some((e) => e.userId === b.userId), { what: 'userLeft B' });
    await waitFor(async () => (await workerCounts(server)).transports === 2, { what: 'B transports closed' });
    const counts = await workerCounts(server);
    assert.equal(counts.producers, 2);
    assert.equal(counts.consumers, 0);
    assert.equal(server.registry.get(roomId)!.peers.size, 1);

    a.close();
    c.close();
    await waitFor(() => server.registry.get(roomId) === undefined, { what: 'empty room closed after grace' });
  });

  test('an empty room closes after the grace period and its router is gone from the worker', async () => {
    await noRoomsLeft();
    const before = (await workerCounts(server)).routers;
    const client = await joinWithTransports(server, 'grace-room');
    assert.equal((await workerCounts(server)).routers, before + 1);
    client.close();
    await waitFor(async () => (await workerCounts(server)).routers === before, { what: 'router closed' });
    assert.equal(server.registry.get('grace-room'), undefined);
  });

  test('a quick rejoin within the grace period keeps the same router', async () => {
    const first = await joinWithTransports(server, 'rejoin-room');
    const router = server.registry.get('rejoin-room')!.router;
    await first.ok('leaveRoom', { roomId: 'rejoin-room', userId: first.userId });
    await first.ok('joinRoom', { roomId: 'rejoin-room', userId: first.userId, userName: 'Again' });
    assert.equal(server.registry.get('rejoin-room')!.router, router);
    first.close();
  });

  test('concurrent first joins of a new room create exactly one router', async () => {
    await noRoomsLeft();
    const before = (await workerCounts(server)).routers;
    await mintRoom(server, 'race-room');
    const clients = await Promise.all(Array.from({ length: 8 }, () => connectClient(server.url)));
    const replies = await Promise.all(clients.map((c, i) => c.request('joinRoom', { roomId: 'race-room', userId: c.userId, userName: `P${i}` })));
    assert.ok(replies.every((r) => 'participants' in r));
    assert.equal((await workerCounts(server)).routers, before + 1);
    assert.equal(server.registry.get('race-room')!.peers.size, 8);
    for (const c of clients) c.close();
  });

  test('rooms are spread over workers (least loaded first)', async () => {
    await noRoomsLeft();
    const clients = [];
    for (const roomId of ['spread-1', 'spread-2']) clients.push(await joinWithTransports(server, roomId));
    const workerOf = (id: string) => server.registry.get(id)!.mediaWorker.index;
    assert.notEqual(workerOf('spread-1'), workerOf('spread-2'));
    for (const c of clients) c.close();
  });

  test('pausing and resuming a producer is signalled to the others', async () => {
    const roomId = 'mute-room';
    const a = await joinWithTransports(server, roomId);
    const b = await joinWithTransports(server, roomId);
    const mic = await produceMic(a);
    await a.ok('pauseProducer', { producerId: mic });
    await waitFor(() => b.received('producerPaused').length === 1, { what: 'producerPaused' });
    assert.deepEqual(b.received('producerPaused')[0], { producerId: mic, userId: a.userId });
    // A late listing keeps the contract's shape; the paused state comes as producerPaused before the reply.
    const late = await joinWithTransports(server, roomId);
    assert.deepEqual((await late.ok('getProducers', { roomId })).producers, [{ producerId: mic, userId: a.userId, kind: 'audio', appData: { type: 'mic' } }]);
    assert.deepEqual(late.received('producerPaused'), [{ producerId: mic, userId: a.userId }]);
    late.close();
    await a.ok('resumeProducer', { producerId: mic });
    await waitFor(() => b.received('producerResumed').length === 1, { what: 'producerResumed' });
    await a.ok('producerClosed', { producerId: mic });
    await waitFor(() => b.received('producerClosed').length === 1, { what: 'producerClosed' });
    assert.deepEqual((await b.ok('getProducers', { roomId })).producers, []);
    a.close();
    b.close();
  });

  test('pipelined requests: each one after joinRoom sees the join done; pause then resume of one producer ends resumed', async () => {
    const roomId = 'pipeline-room';
    const owner = await joinWithTransports(server, roomId, 'Owner');
    const cameraId = await produceCamera(owner);
    const c = await connectClient(server.url);
    // Sent all at once, as a client that does not wait for each answer sends them.
    const [joined, send, recv, listing] = await Promise.all([
      c.request('joinRoom', { roomId, userId: c.userId, userName: 'Eager' }),
      c.request('createWebRtcTransport', { roomId, producing: true, consuming: false }),
      c.request('createWebRtcTransport', { roomId, producing: false, consuming: true }),
      c.request('getProducers', { roomId }),
    ]);
    assert.ok('participants' in joined && 'id' in send && 'id' in recv, JSON.stringify([joined, send, recv]));
    assert.deepEqual('producers' in listing && listing.producers.map((p) => p.producerId), [cameraId]);
    // Requests on one producer keep their order even though requests in general run side by side.
    const mic = await produceMic(owner);
    const toggles = await Promise.all([
      owner.request('pauseProducer', { producerId: mic }),
      owner.request('resumeProducer', { producerId: mic }),
      owner.request('pauseProducer', { producerId: mic }),
      owner.request('resumeProducer', { producerId: mic }),
    ]);
    assert.deepEqual(toggles, [{}, {}, {}, {}]);
    assert.equal(server.registry.get(roomId)!.peers.get(owner.userId)!.producers.get(mic)!.paused, false);
    // A leave sent behind a burst waits for it, and nothing it started survives the leave.
    const { rtpCapabilities } = await c.ok('getRouterRtpCapabilities', { roomId });
    const burst = [c.request('consume', { producerId: cameraId, rtpCapabilities }), c.request('consume', { producerId: mic, rtpCapabilities })];
    assert.deepEqual(await c.request('leaveRoom', { roomId, userId: c.userId }), {});
    assert.ok((await Promise.all(burst)).every((r) => 'id' in r));
    assert.equal(server.registry.get(roomId)!.peers.has(c.userId), false);
    await waitFor(async () => (await workerCounts(server, [roomId])).consumers === 0, { what: 'the left consumers to close' });
    c.close();
    owner.close();
  });
});
