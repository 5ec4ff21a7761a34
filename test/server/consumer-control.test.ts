/**
 * The requests a receiver uses to get what each tile needs (pauseConsumer, setConsumerPreferredLayers,
 * setConsumerPriority, requestConsumerKeyFrame): they act only on the caller's own consumers, refuse
 * what cannot be done with a clear error, and really change what the SFU sends (real worker, real
 * ICE/DTLS/SRTP through werift peers).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { joinWithTransports, type JoinedClient } from '../helpers/call.ts';
import { codeOf, connectClient, type TestClient } from '../helpers/client.ts';
import { audioRtpParameters, videoRtpParameters } from '../helpers/fixtures.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';
import { createReceivingPeer, createSendingPeer, vp8KeyFramePacket, vp8ReceiveCapabilities, type ReceivingPeer, type SendingPeer } from '../helpers/werift-peer.ts';

let server: Parley;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

/** rtpParameters of a three-layer simulcast VP8 camera (one SSRC per layer, lowest first). */
function simulcastRtpParameters() {
  const base = videoRtpParameters();
  const ssrc = base.encodings![0]!.ssrc!;
  return { ...base, encodings: [{ ssrc, scalabilityMode: 'L1T3' }, { ssrc: ssrc + 10, scalabilityMode: 'L1T3' }, { ssrc: ssrc + 20, scalabilityMode: 'L1T3' }] };
}

describe('consumer requests: contract', () => {
  const clients: TestClient[] = [];
  let owner: JoinedClient;
  let viewer: JoinedClient;
  let other: JoinedClient;
  const consumers: Record<'simulcast' | 'single' | 'audio', string> = { simulcast: '', single: '', audio: '' };

  before(async () => {
    const roomId = 'consumer-contract';
    owner = await joinWithTransports(server, roomId, 'Owner');
    viewer = await joinWithTransports(server, roomId, 'Viewer');
    other = await joinWithTransports(server, roomId, 'Other');
    clients.push(owner, viewer, other);
    const { rtpCapabilities } = await viewer.ok('getRouterRtpCapabilities', { roomId });
    const produce = (kind: 'audio' | 'video', rtpParameters: ReturnType<typeof videoRtpParameters>, type: string) =>
      owner.ok('produce', { transportId: owner.sendTransportId, kind, rtpParameters, appData: { type } }).then((r) => r.producerId);
    const simulcast = await produce('video', simulcastRtpParameters(), 'camera');
    const single = await produce('video', { ...videoRtpParameters(), mid: '2' }, 'screen');
    const audio = await produce('audio', { ...audioRtpParameters(), mid: '3' }, 'mic');
    for (const [name, producerId] of [['simulcast', simulcast], ['single', single], ['audio', audio]] as const) {
      consumers[name] = (await viewer.ok('consume', { producerId, rtpCapabilities, transportId: viewer.recvTransportId })).id;
    }
  });
  after(() => clients.forEach((c) => c.close()));

  const serverConsumer = (id: string) => server.registry.get('consumer-contract')!.peers.get(viewer.userId)!.consumers.get(id)!;

  test("another participant's consumer is not found, for every request", async () => {
    const consumerId = consumers.simulcast;
    for (const reply of [
      await other.request('pauseConsumer', { consumerId }),
      await other.request('setConsumerPreferredLayers', { consumerId, spatialLayer: 0 }),
      await other.request('setConsumerPriority', { consumerId, priority: 10 }),
      await other.request('requestConsumerKeyFrame', { consumerId }),
    ]) {
      assert.equal(codeOf(reply), 'not_found', JSON.stringify(reply));
      assert.match((reply as { error: string }).error, /unknown consumerId/);
    }
    assert.equal(serverConsumer(consumerId).paused, true, 'still as the server made it (paused, not resumed by anyone)');
    assert.equal(serverConsumer(consumerId).priority, 1);
  });

  test('a socket that has not joined is told so', async () => {
    const stranger = await connectClient(server.url);
    clients.push(stranger);
    assert.equal(codeOf(await stranger.request('pauseConsumer', { consumerId: consumers.simulcast })), 'not_joined');
  });

  test('preferred layers: set within the producer’s layers, refused outside them with a clear error', async () => {
    const consumerId = consumers.simulcast;
    assert.equal(serverConsumer(consumerId).type, 'simulcast');
    assert.deepEqual(await viewer.ok('setConsumerPreferredLayers', { consumerId, spatialLayer: 0, temporalLayer: 1 }), {});
    assert.deepEqual(serverConsumer(consumerId).preferredLayers, { spatialLayer: 0, temporalLayer: 1 });
    assert.deepEqual(await viewer.ok('setConsumerPreferredLayers', { consumerId, spatialLayer: 2 }), {});
    assert.equal(serverConsumer(consumerId).preferredLayers?.spatialLayer, 2);

    const tooHigh = await viewer.request('setConsumerPreferredLayers', { consumerId, spatialLayer: 3 });
    assert.equal(codeOf(tooHigh), 'invalid_request');
    assert.match((tooHigh as { error: string }).error, /spatialLayer must be below 3/);
    const temporalTooHigh = await viewer.request('setConsumerPreferredLayers', { consumerId, spatialLayer: 1, temporalLayer: 3 });
    assert.equal(codeOf(temporalTooHigh), 'invalid_request');
    assert.match((temporalTooHigh as { error: string }).error, /temporalLayer must be below 3/);
    for (const spatialLayer of [-1, 1.5, 99] as number[]) {
      assert.equal(codeOf(await viewer.request('setConsumerPreferredLayers', { consumerId, spatialLayer })), 'invalid_payload', `spatialLayer ${spatialLayer}`);
    }
    assert.equal(serverConsumer(consumerId).preferredLayers?.spatialLayer, 2, 'refused requests changed nothing');

    const single = await viewer.request('setConsumerPreferredLayers', { consumerId: consumers.single, spatialLayer: 0 });
    assert.equal(codeOf(single), 'invalid_request');
    assert.match((single as { error: string }).error, /no layers/);
    assert.equal(codeOf(await viewer.request('setConsumerPreferredLayers', { consumerId: consumers.audio, spatialLayer: 0 })), 'invalid_request');
  });

  test('priority: 1–255 only', async () => {
    const consumerId = consumers.single;
    assert.deepEqual(await viewer.ok('setConsumerPriority', { consumerId, priority: 255 }), {});
    assert.equal(serverConsumer(consumerId).priority, 255);
    for (const priority of [0, 256, 2.5, -4]) {
      assert.equal(codeOf(await viewer.request('setConsumerPriority', { consumerId, priority })), 'invalid_payload', `priority ${priority}`);
    }
    assert.equal(serverConsumer(consumerId).priority, 255);
  });

  test('pause and key frame requests: own consumers, video only for key frames', async () => {
    assert.deepEqual(await viewer.ok('pauseConsumer', { consumerId: consumers.audio }), {});
    assert.equal(serverConsumer(consumers.audio).paused, true);
    const audioKeyFrame = await viewer.request('requestConsumerKeyFrame', { consumerId: consumers.audio });
    assert.equal(codeOf(audioKeyFrame), 'invalid_request');
    assert.deepEqual(await viewer.ok('requestConsumerKeyFrame', { consumerId: consumers.simulcast }), {});
    assert.equal(codeOf(await viewer.request('pauseConsumer', { consumerId: 'no-such-consumer' })), 'not_found');
  });
});

describe('consumer requests: what the SFU sends', () => {
  const roomId = 'consumer-rtp';
  const clients: TestClient[] = [];
  let sender: SendingPeer | undefined;
  let receiver: ReceivingPeer | undefined;
  let timer: NodeJS.Timeout | undefined;

  after(async () => {
    clearInterval(timer);
    await Promise.all([sender?.pc.close(), receiver?.pc.close()]);
    clients.forEach((c) => c.close());
  });

  async function join(name: string): Promise<TestClient> {
    const client = await connectClient(server.url);
    clients.push(client);
    if (!(await server.store.roomInfo(roomId))) await server.store.registerRoom(roomId);
    await client.ok('joinRoom', { roomId, userId: client.userId, userName: name });
    return client;
  }

  test('a paused consumer sends no RTP; resumed, it sends again, starting with a key frame request', { timeout: 90_000 }, async () => {
    const alice = await join('Alice');
    const sendInfo = await alice.ok('createWebRtcTransport', { roomId, producing: true, consuming: false });
    sender = await createSendingPeer(sendInfo, (dtlsParameters) => alice.ok('connectWebRtcTransport', { transportId: sendInfo.id, dtlsParameters }).then(() => undefined));
    const { producerId } = await alice.ok('produce', { transportId: sendInfo.id, kind: 'video', rtpParameters: sender.rtpParameters, appData: { type: 'camera' } });
    await waitFor(() => sender!.pc.connectionState === 'connected', { timeoutMs: 20_000, what: 'the sender to connect' });
    let sent = 0;
    timer = setInterval(() => sender!.track.writeRtp(vp8KeyFramePacket(sent++)), 20);

    const bob = await join('Bob');
    const recvInfo = await bob.ok('createWebRtcTransport', { roomId, producing: false, consuming: true });
    const { rtpCapabilities } = await bob.ok('getRouterRtpCapabilities', { roomId });
    const consumed = await bob.ok('consume', { producerId, rtpCapabilities: vp8ReceiveCapabilities(rtpCapabilities), transportId: recvInfo.id });
    receiver = await createReceivingPeer(recvInfo, consumed, (dtlsParameters) => bob.ok('connectWebRtcTransport', { transportId: recvInfo.id, dtlsParameters }).then(() => undefined));
    await waitFor(() => receiver!.pc.connectionState === 'connected', { timeoutMs: 20_000, what: 'the receiver to connect' });
    await bob.ok('resumeConsumer', { consumerId: consumed.id });
    await waitFor(() => receiver!.packets.length >= 20, { timeoutMs: 20_000, what: 'RTP to reach the receiver' });

    const room = server.registry.get(roomId)!;
    const producer = room.peers.get(alice.userId)!.producers.get(producerId)!;
    const consumer = room.peers.get(bob.userId)!.consumers.get(consumed.id)!;
    const producerPackets = async () => (await producer.getStats())[0]?.packetCount ?? 0;
    const consumerPackets = async () => (await consumer.getStats()).find((s) => s.type === 'outbound-rtp')?.packetCount ?? 0;

    assert.deepEqual(await bob.ok('pauseConsumer', { consumerId: consumed.id }), {});
    assert.equal(consumer.paused, true);
    const [sentAtPause, producedAtPause] = [await consumerPackets(), await producerPackets()];
    // The producer goes on receiving 50 more packets: the paused consumer forwards none of them.
    await waitFor(async () => (await producerPackets()) >= producedAtPause + 50, { timeoutMs: 20_000, what: '50 more packets into the producer' });
    assert.equal(await consumerPackets(), sentAtPause, 'the paused consumer sent nothing');
    const receivedWhilePaused = receiver.packets.length;

    const keyFrameRequests: string[] = [];
    await producer.enableTraceEvent(['pli', 'fir']);
    producer.on('trace', (trace) => trace.direction === 'out' && keyFrameRequests.push(trace.type));
    assert.deepEqual(await bob.ok('resumeConsumer', { consumerId: consumed.id }), {});
    await waitFor(() => keyFrameRequests.length > 0, { timeoutMs: 10_000, what: 'the resumed consumer to ask the sender for a key frame' });
    await waitFor(() => receiver!.packets.length >= receivedWhilePaused + 20, { timeoutMs: 20_000, what: 'RTP to flow again after resume' });
    assert.ok((await consumerPackets()) > sentAtPause);

    // And on demand: requestConsumerKeyFrame makes the producer ask again.
    const before = keyFrameRequests.length;
    assert.deepEqual(await bob.ok('requestConsumerKeyFrame', { consumerId: consumed.id }), {});
    await waitFor(() => keyFrameRequests.length > before, { timeoutMs: 10_000, what: 'a key frame request on demand' });
  });
});
