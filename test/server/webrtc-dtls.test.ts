/**
 * A real media path through the SFU: two werift peers (pure TypeScript WebRTC) complete ICE, DTLS
 * and SRTP against the server's WebRtcTransports, signaled exactly as the browser does. A sends VP8
 * RTP, B receives it decrypted. A worker that crashes or chokes on DTLS fails here.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { connectClient, type TestClient } from '../helpers/client.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';
import { createReceivingPeer, createSendingPeer, vp8KeyFramePacket, vp8ReceiveCapabilities, type ReceivingPeer, type SendingPeer } from '../helpers/werift-peer.ts';

const ROOM = 'webrtc-dtls-room';
const MIN_PACKETS = 50;

let server: Parley;
const clients: TestClient[] = [];
let sender: SendingPeer | undefined;
let receiver: ReceivingPeer | undefined;
let rtpTimer: NodeJS.Timeout | undefined;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  clearInterval(rtpTimer);
  await Promise.all([sender?.pc.close(), receiver?.pc.close()]);
  for (const client of clients) client.close();
  await server.close();
});

async function join(userName: string): Promise<TestClient> {
  const client = await connectClient(server.url);
  clients.push(client);
  await server.store.registerRoom(ROOM); // rooms exist only once minted
  await client.ok('joinRoom', { roomId: ROOM, userId: client.userId, userName });
  return client;
}

function serverTransport(client: TestClient, transportId: string) {
  const transport = server.registry.get(ROOM)?.peers.get(client.userId)?.transports.get(transportId);
  assert.ok(transport, `server has transport ${transportId}`);
  return transport;
}

test('werift peers complete ICE + DTLS + SRTP through the SFU and media flows A -> B', { timeout: 90_000 }, async (t) => {
  const { worker } = server.pool.workers[0]!;
  const workerPid = worker.pid;
  let workerDied: Error | undefined;
  worker.once('died', (error) => (workerDied = error));
  // Checked inside every wait, so a worker crash fails fast and by name instead of as a timeout.
  const workerAlive = () => {
    if (workerDied) throw new Error(`mediasoup worker ${workerPid} died: ${workerDied.message}`);
    return true;
  };

  // A: send transport, DTLS, produce.
  const alice = await join('Alice');
  const sendInfo = await alice.ok('createWebRtcTransport', { roomId: ROOM, producing: true, consuming: false });
  sender = await createSendingPeer(sendInfo, (dtlsParameters) =>
    alice.ok('connectWebRtcTransport', { transportId: sendInfo.id, dtlsParameters }).then(() => undefined),
  );
  const { producerId } = await alice.ok('produce', { transportId: sendInfo.id, kind: 'video', rtpParameters: sender.rtpParameters, appData: { type: 'camera' } });
  // Each side learns of the handshake on its own: werift from the wire, our process from the worker's
  // notification (which can trail werift), so wait for both rather than assert one after the other.
  await waitFor(() => workerAlive() && sender!.pc.connectionState === 'connected' && serverTransport(alice, sendInfo.id).dtlsState === 'connected', {
    timeoutMs: 20_000,
    what: 'A and its server transport to be connected (ICE + DTLS)',
  });

  // Send like a 50 fps camera from here on; the producer exists, so the SFU keeps every packet.
  let sent = 0;
  rtpTimer = setInterval(() => sender!.track.writeRtp(vp8KeyFramePacket(sent++)), 20);

  // B: receive transport, consume A's producer (paused, as the server always does), DTLS, resume.
  const bob = await join('Bob');
  const recvInfo = await bob.ok('createWebRtcTransport', { roomId: ROOM, producing: false, consuming: true });
  const { rtpCapabilities } = await bob.ok('getRouterRtpCapabilities', { roomId: ROOM });
  const consumer = await bob.ok('consume', { producerId, rtpCapabilities: vp8ReceiveCapabilities(rtpCapabilities), transportId: recvInfo.id });
  receiver = await createReceivingPeer(recvInfo, consumer, (dtlsParameters) =>
    bob.ok('connectWebRtcTransport', { transportId: recvInfo.id, dtlsParameters }).then(() => undefined),
  );
  await waitFor(() => workerAlive() && receiver!.pc.connectionState === 'connected' && serverTransport(bob, recvInfo.id).dtlsState === 'connected', {
    timeoutMs: 20_000,
    what: 'B and its server transport to be connected (ICE + DTLS)',
  });
  await bob.ok('resumeConsumer', { consumerId: consumer.id });

  await waitFor(() => workerAlive() && receiver!.packets.length >= MIN_PACKETS, { timeoutMs: 20_000, what: `B to receive ${MIN_PACKETS} RTP packets` });
  clearInterval(rtpTimer);

  // The producer really received SRTP from A (decrypted and parsed by the worker).
  const producer = server.registry.get(ROOM)!.peers.get(alice.userId)!.producers.get(producerId)!;
  const [inbound] = await producer.getStats();
  assert.ok(inbound, 'producer has an inbound RTP stream');
  assert.ok(inbound.packetCount >= MIN_PACKETS, `producer received ${inbound.packetCount} packets`);
  assert.ok(inbound.byteCount >= MIN_PACKETS * 200, `producer received ${inbound.byteCount} bytes`);
  t.diagnostic(`A sent ${sent}, producer got ${inbound.packetCount} packets / ${inbound.byteCount} bytes, B got ${receiver.packets.length}`);

  // B got exactly the stream the consumer's rtpParameters announced.
  const expectedSsrc = consumer.rtpParameters.encodings![0]!.ssrc;
  const expectedPayloadType = consumer.rtpParameters.codecs[0]!.payloadType;
  for (const header of receiver.packets) {
    assert.equal(header.ssrc, expectedSsrc);
    assert.equal(header.payloadType, expectedPayloadType);
  }

  // Both transports are still up, and the worker survived all of it.
  assert.equal(serverTransport(alice, sendInfo.id).dtlsState, 'connected');
  assert.equal(serverTransport(bob, recvInfo.id).dtlsState, 'connected');
  workerAlive();
  assert.equal(worker.died, false);
  assert.equal(worker.pid, workerPid);
  assert.equal(server.pool.workers[0]!.worker, worker, 'worker was not replaced');
  assert.doesNotThrow(() => process.kill(workerPid, 0), 'worker process is alive');
});
