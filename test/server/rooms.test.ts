/**
 * The room domain against real mediasoup workers, without sockets: what Room, Peer and RoomRegistry
 * promise on their own (events, cascading close, policies), which RoomBroadcaster then relays.
 */
import '../helpers/watchdog.ts';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import type { types } from 'mediasoup';
import { createLogger } from '../../src/log.ts';
import { resolveWorkerBin } from '../../src/media/workerBin.ts';
import { WorkerPool } from '../../src/media/WorkerPool.ts';
import { Peer, type TransportAppData } from '../../src/rooms/Peer.ts';
import type { Room, RoomEvents } from '../../src/rooms/Room.ts';
import { MAX_PROBES_PER_OWNER, RoomRegistry } from '../../src/rooms/RoomRegistry.ts';
import { UserError } from '../../src/signaling/errors.ts';
import { videoRtpParameters } from '../helpers/fixtures.ts';
import { freePortRange } from '../helpers/ports.ts';
import { rtpPacket, vp8KeyframePayload, type RtpStream } from '../helpers/rtp.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger('silent');
let pool: WorkerPool;
let registry: RoomRegistry;

before(async () => {
  pool = new WorkerPool({ count: 1, workerBin: resolveWorkerBin(), listenIp: '127.0.0.1', announcedAddress: undefined, firstPort: await freePortRange(1), logger: log });
  await pool.start();
  registry = new RoomRegistry(pool, { emptyGraceMs: 100, probeLifetimeMs: 300, log });
});
after(async () => {
  registry.closeAll('shutdown');
  await pool.close();
});

/** Every event of a room, as [name, userId or producer id, extra]. */
function record(room: Room): unknown[][] {
  const seen: unknown[][] = [];
  const names: (keyof RoomEvents)[] = ['peerJoined', 'peerLeft', 'producerAdded', 'producerClosed', 'producerPaused', 'producerResumed', 'closed'];
  for (const name of names) {
    room.on(name, (...args: unknown[]) => {
      const [first, second] = args;
      if (first instanceof Peer) seen.push([name, first.userId, ...(typeof second === 'string' ? [second] : second ? [(second as types.Producer).id] : [])]);
      else seen.push([name, first]);
    });
  }
  return seen;
}

async function transportFor(room: Room, peer: Peer, flags: TransportAppData = { producing: true, consuming: true }) {
  const transport = await room.router.createWebRtcTransport<TransportAppData>({ webRtcServer: room.mediaWorker.webRtcServer, appData: flags });
  assert.ok(peer.addTransport(transport));
  return transport;
}

async function seatWithCamera(room: Room, userId: string) {
  const peer = new Peer(userId, userId.toUpperCase(), `socket-${userId}`);
  room.addPeer(peer);
  const transport = await transportFor(room, peer);
  const producer = await transport.produce({ kind: 'video', rtpParameters: videoRtpParameters() });
  assert.ok(peer.addProducer(producer));
  return { peer, transport, producer };
}

describe('rooms', () => {
  test('every router offers what the registry announces before any room exists', async () => {
    const capabilities = registry.routerRtpCapabilities;
    assert.ok(capabilities.codecs!.some((c) => c.mimeType === 'video/VP8'));
    const room = await registry.getOrCreate('caps-room');
    assert.deepEqual(room.router.rtpCapabilities, capabilities);
    room.close('shutdown');
  });

  test('peers joining and leaving, producers added, paused, resumed and closed: one event each, in order', async () => {
    const room = await registry.getOrCreate('events-room');
    const events = record(room);
    const a = await seatWithCamera(room, 'a');
    const b = await seatWithCamera(room, 'b');
    await a.producer.pause();
    await a.producer.pause(); // already paused: no second event
    await a.producer.resume();
    a.producer.close();
    room.removePeer(b.peer);
    room.removePeer(b.peer); // idempotent
    assert.deepEqual(events, [
      ['peerJoined', 'a'],
      ['producerAdded', 'a', a.producer.id],
      ['peerJoined', 'b'],
      ['producerAdded', 'b', b.producer.id],
      ['producerPaused', 'a', a.producer.id],
      ['producerResumed', 'a', a.producer.id],
      ['producerClosed', 'a', a.producer.id],
      // A leaving peer's producers close first, then it leaves.
      ['producerClosed', 'b', b.producer.id],
      ['peerLeft', 'b', 'left'],
    ]);
    assert.equal(b.peer.closed, true);
    assert.equal(b.transport.closed, true);
    room.close('shutdown');
  });

  test('a seat taken over by the same user is left as "replaced", and the userId stays unique', async () => {
    const room = await registry.getOrCreate('replace-room');
    const events = record(room);
    const old = await seatWithCamera(room, 'u');
    assert.throws(() => room.addPeer(new Peer('u', 'Again', 'socket-2')), /already has a seat/);
    room.removePeer(old.peer, 'replaced');
    room.addPeer(new Peer('u', 'Again', 'socket-2'));
    assert.deepEqual(events.slice(2), [
      ['producerClosed', 'u', old.producer.id],
      ['peerLeft', 'u', 'replaced'],
      ['peerJoined', 'u'],
    ]);
    room.close('shutdown');
  });

  test('closing a room cascades to peers, transports, producers, consumers and the router, once', async () => {
    const room = await registry.getOrCreate('cascade-room');
    const a = await seatWithCamera(room, 'a');
    const b = await seatWithCamera(room, 'b');
    const consumer = await b.transport.consume({ producerId: a.producer.id, rtpCapabilities: room.router.rtpCapabilities, paused: true });
    assert.ok(b.peer.addConsumer(consumer));
    const events = record(room);
    room.close('shutdown');
    room.close('worker-died');
    // No peer "leaves" a room that ends, and no producer is reported closed one by one.
    assert.deepEqual(events, [['closed', 'shutdown']]);
    assert.ok([a.peer, b.peer].every((p) => p.closed));
    assert.ok([a.transport, b.transport, a.producer, b.producer, consumer, room.router].every((o) => o.closed));
    assert.equal(registry.get('cascade-room'), undefined);
    assert.deepEqual((await room.mediaWorker.worker.dump()).routerIds.includes(room.router.id), false);
    assert.throws(() => room.addPeer(new Peer('late', 'Late', 'socket-late')), /closed/);
  });

  test('an empty call closes after its grace period, not before a rejoin', async () => {
    const room = await registry.getOrCreate('grace-room');
    const { peer } = await seatWithCamera(room, 'a');
    room.removePeer(peer);
    assert.equal(room.closed, false, 'a reload may come back');
    assert.equal(await registry.getOrCreate('grace-room'), room);
    const closed = new Promise((resolve) => room.once('closed', resolve));
    assert.equal(await closed, 'empty');
  });

  test('a peer cannot overshoot its limits, even with creations in flight', () => {
    const peer = new Peer('p', 'P', 'socket-p');
    const first = peer.reserve('producers', 2);
    const second = peer.reserve('producers', 2);
    assert.ok(first && second);
    assert.equal(peer.reserve('producers', 2), undefined);
    first();
    first(); // releasing twice frees one place only
    assert.ok(peer.reserve('producers', 2));
    assert.equal(peer.reserve('producers', 2), undefined);
  });
});

describe('probe policy', () => {
  test('a probe room is private, limited, closes when left, and expires on its own', async () => {
    const room = await registry.createProbeRoom('198.51.100.1');
    assert.match(room.id, /^probe-/);
    assert.deepEqual(room.policy.limits, { transports: 1, producers: 1, consumers: 0 });
    assert.equal(room.policy.joinable, false);
    assert.equal(registry.probes, 1);
    const peer = new Peer('probe', 'Connection check', 'socket-probe');
    room.addPeer(peer);
    room.removePeer(peer);
    assert.equal(room.closed, true, 'closed at once when left: no grace period');
    assert.equal(registry.probes, 0);

    const expiring = await registry.createProbeRoom('198.51.100.1');
    expiring.addPeer(new Peer('probe', 'Connection check', 'socket-probe-2'));
    const reason = await new Promise((resolve) => expiring.once('closed', resolve));
    assert.equal(reason, 'expired');
    assert.equal(registry.probes, 0);
  });

  test(`at most ${MAX_PROBES_PER_OWNER} probes per address: then limit_reached`, async () => {
    const rooms = [await registry.createProbeRoom('203.0.113.5'), await registry.createProbeRoom('203.0.113.5')];
    await assert.rejects(registry.createProbeRoom('203.0.113.5'), (error: unknown) => error instanceof UserError && error.code === 'limit_reached');
    for (const room of rooms) room.close('shutdown');
    (await registry.createProbeRoom('203.0.113.5')).close('shutdown');
  });
});

describe('consumers', () => {
  test('resuming a video consumer makes the producer ask its sender for a key frame at once', async (t) => {
    const room = await registry.getOrCreate('keyframe-room');
    t.after(() => room.close('shutdown'));
    const ingress = await room.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
    const rtpParameters = videoRtpParameters();
    const producer = await ingress.produce({ kind: 'video', rtpParameters });
    const sender = dgram.createSocket('udp4');
    t.after(() => sender.close());
    await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
    const stream: RtpStream = { ssrc: rtpParameters.encodings![0]!.ssrc!, payloadType: 96, clockRate: 90000, seq: 1, timestamp: 1 };
    const feed = setInterval(() => {
      sender.send(rtpPacket(stream, vp8KeyframePayload()), ingress.tuple.localPort, '127.0.0.1');
      stream.timestamp += 3000;
    }, 20);
    t.after(() => clearInterval(feed));
    await waitFor(async () => ((await producer.getStats())[0]?.packetCount ?? 0) > 0, { what: 'the producer to receive RTP' });

    const egress = await room.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
    await egress.connect({ ip: '127.0.0.1', port: 9 });
    const consumer = await egress.consume({ producerId: producer.id, rtpCapabilities: room.router.rtpCapabilities, paused: true });
    const requests: string[] = [];
    await producer.enableTraceEvent(['pli', 'fir']);
    producer.on('trace', (trace) => {
      if (trace.direction === 'out') requests.push(trace.type);
    });
    assert.deepEqual(requests, [], 'a paused consumer asks for nothing');
    await consumer.resume();
    await waitFor(() => requests.length > 0, { what: 'a key frame request (PLI/FIR) after resume', timeoutMs: 5000 });
  });
});
