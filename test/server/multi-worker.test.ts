/**
 * One room across two real mediasoup workers: participants land on the least-loaded worker, a
 * producer is piped to the other worker's router only while someone there consumes it, media flows
 * through the pipe (werift peers, real ICE/DTLS/SRTP), and a dead worker takes only its own
 * participants with it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import type { Peer } from '../../src/rooms/Peer.ts';
import { connectClient, type TestClient } from '../helpers/client.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';
import { createReceivingPeer, createSendingPeer, vp8KeyFramePacket, vp8ReceiveCapabilities, type ReceivingPeer, type SendingPeer } from '../helpers/werift-peer.ts';

const ROOM = 'span-room';
const MIN_PACKETS = 40;

let server: Parley;
const clients: TestClient[] = [];
const peers: Array<SendingPeer | ReceivingPeer> = [];
let rtpTimer: NodeJS.Timeout | undefined;

before(async () => {
  // Slack 0: every participant goes to the least-loaded worker, so a two-person room spans both.
  server = await startTestServer({ workers: 2, spreadSlack: 0, env: { METRICS_PORT: '0' } });
  await server.store.registerRoom(ROOM);
});

after(async () => {
  clearInterval(rtpTimer);
  await Promise.all(peers.map((p) => p.pc.close()));
  for (const client of clients) client.close();
  await server.close();
});

async function join(userName: string): Promise<TestClient> {
  const client = await connectClient(server.url);
  clients.push(client);
  await client.ok('joinRoom', { roomId: ROOM, userId: client.userId, userName });
  return client;
}

const room = () => server.registry.get(ROOM)!;
/** parley_pipes as /metrics reports it. */
async function pipesMetric(): Promise<number> {
  const text = await (await fetch(`${server.metricsUrl}/metrics`)).text();
  return Number(/^parley_pipes (\S+)$/m.exec(text)?.[1]);
}
const seat = (client: TestClient): Peer => room().peers.get(client.userId)!;
/** Producers on a router, read from its worker (not from our Maps). */
const producersOn = async (router: Peer['router']) => (await router.dump()).mapProducerIdConsumerIds.map((e) => e.key);

/** Bob's receive transport and a consumer of `producerId`, connected and resumed: the RTP he gets. */
async function receive(bob: TestClient, producerId: string): Promise<{ consumerId: string; receiver: ReceivingPeer }> {
  const recvInfo = await bob.ok('createWebRtcTransport', { roomId: ROOM, producing: false, consuming: true });
  const { rtpCapabilities } = await bob.ok('getRouterRtpCapabilities', { roomId: ROOM });
  const consumer = await bob.ok('consume', { producerId, rtpCapabilities: vp8ReceiveCapabilities(rtpCapabilities), transportId: recvInfo.id });
  const receiver = await createReceivingPeer(recvInfo, consumer, (dtlsParameters) => bob.ok('connectWebRtcTransport', { transportId: recvInfo.id, dtlsParameters }).then(() => undefined));
  peers.push(receiver);
  await waitFor(() => receiver.pc.connectionState === 'connected', { timeoutMs: 20_000, what: `${bob.userId} connected (ICE + DTLS)` });
  await bob.ok('resumeConsumer', { consumerId: consumer.id });
  return { consumerId: consumer.id, receiver };
}

test('a room spans two workers: media is piped on demand, the pipe closes with its last consumer, a dead worker takes only its own participants', { timeout: 120_000 }, async () => {
  // Alice sends from one worker.
  const alice = await join('Alice');
  const sendInfo = await alice.ok('createWebRtcTransport', { roomId: ROOM, producing: true, consuming: false });
  const sender = await createSendingPeer(sendInfo, (dtlsParameters) => alice.ok('connectWebRtcTransport', { transportId: sendInfo.id, dtlsParameters }).then(() => undefined));
  peers.push(sender);
  const { producerId } = await alice.ok('produce', { transportId: sendInfo.id, kind: 'video', rtpParameters: sender.rtpParameters, appData: { type: 'camera' } });
  await waitFor(() => sender.pc.connectionState === 'connected', { timeoutMs: 20_000, what: 'Alice connected (ICE + DTLS)' });
  let sent = 0;
  rtpTimer = setInterval(() => sender.track.writeRtp(vp8KeyFramePacket(sent++)), 20);

  // Bob lands on the other, less loaded worker: his transports listen on its port.
  const bob = await join('Bob');
  assert.notEqual(seat(bob).mediaWorker, seat(alice).mediaWorker, 'Bob is on the other worker');
  assert.deepEqual(new Set(room().workers), new Set(server.pool.workers), 'the room has a router on both workers');
  assert.equal(room().pipes.size, 0, 'nothing is piped before anyone consumes');

  // Bob consumes Alice's camera: piped to his router, SRTP reaches him.
  const first = await receive(bob, producerId);
  assert.equal(room().pipes.size, 1, 'one pipe: Alice camera to Bob router');
  assert.equal(await pipesMetric(), 1, '/metrics counts the pipe');
  await waitFor(() => first.receiver.packets.length >= MIN_PACKETS, { timeoutMs: 20_000, what: `Bob to receive ${MIN_PACKETS} RTP packets through the pipe` });
  const bobRouter = seat(bob).router;
  assert.ok((await producersOn(bobRouter)).includes(producerId), "Alice's producer exists on Bob's router (piped, same id)");

  // Closing the pipe's last consumer closes the pipe, on both routers.
  seat(bob).consumers.get(first.consumerId)!.close();
  await waitFor(async () => room().pipes.size === 0 && !(await producersOn(bobRouter)).includes(producerId), { timeoutMs: 10_000, what: 'the pipe to close with its last consumer' });
  assert.equal(await pipesMetric(), 0, '/metrics counts no pipe');
  assert.deepEqual((await seat(alice).router.dump()).mapProducerIdConsumerIds.find((e) => e.key === producerId)?.values ?? [], [], "no pipe consumer left on Alice's router");

  // Consumed again, piped again.
  const second = await receive(bob, producerId);
  await waitFor(() => second.receiver.packets.length >= MIN_PACKETS, { timeoutMs: 20_000, what: 'Bob to receive RTP through a new pipe' });

  // Bob's worker dies: Bob is told to join again and loses his seat; Alice and the room live on, her media still arrives.
  const bobWorker = seat(bob).mediaWorker;
  const bobUserId = bob.userId;
  process.kill(bobWorker.worker.pid!, 'SIGKILL');
  await waitFor(() => bob.received('roomClosed').some((e) => e.reason === 'worker-died'), { timeoutMs: 10_000, what: 'Bob to hear roomClosed worker-died' });
  assert.equal(room().closed, false, 'the room lives on');
  assert.equal(room().peers.has(bobUserId), false, "Bob's seat is freed");
  assert.ok(room().peers.has(alice.userId), 'Alice keeps her seat');
  assert.equal(alice.received('roomClosed').length, 0, 'Alice is not told to rejoin');
  await waitFor(() => alice.received('userLeft').some((e) => e.userId === bobUserId), { timeoutMs: 10_000, what: 'Alice to hear Bob left' });
  const producer = seat(alice).producers.get(producerId)!;
  const before = (await producer.getStats())[0]?.packetCount ?? 0;
  await waitFor(async () => ((await producer.getStats())[0]?.packetCount ?? 0) >= before + MIN_PACKETS, { timeoutMs: 20_000, what: "Alice's media to keep flowing into the surviving worker" });

  // Bob joins again (as his client does) and gets Alice's camera again.
  await bob.ok('joinRoom', { roomId: ROOM, userId: bob.userId, userName: 'Bob' });
  const third = await receive(bob, producerId);
  await waitFor(() => third.receiver.packets.length >= MIN_PACKETS, { timeoutMs: 20_000, what: 'Bob to receive RTP after rejoining' });
});
