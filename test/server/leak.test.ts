/**
 * Leak check: 1,000 bot sessions join and leave through socket.io-client against a real worker.
 *
 * A cycle is one bot's session. Bots come in pairs, in parallel batches of ~20: the producer joins,
 * creates two transports and produces; the consumer joins, creates two transports, consumes and
 * resumes; then each either leaves (leaveRoom, then closes its socket), just disconnects, or drops
 * its socket while a request is still in flight. Afterwards nothing may be left: no rooms, no
 * routers or transports in the worker, no WebRtcServer entries, no connections, no socket.io
 * rooms or engine clients, no extra listeners, and the heap (after forced GC) back near the
 * baseline taken after a warm-up.
 *
 * LEAK_CYCLES overrides the number of measured cycles (default 1000).
 */
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { after, before, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Parley } from '../../src/app.ts';
import type { RtpCapabilities } from '../../src/signaling/protocol.ts';
import { connectClient, type TestClient } from '../helpers/client.ts';
import { videoRtpParameters } from '../helpers/fixtures.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

const CYCLES = Number(process.env.LEAK_CYCLES ?? 1000);
const WARMUP_CYCLES = 100;
const BATCH_BOTS = 20;
const HEAP_GROWTH_LIMIT_MB = 15;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let server: Parley;
before(async () => {
  server = await startTestServer({ emptyRoomGraceMs: 20 });
});
after(async () => {
  await server?.close();
});

type Ending = 'leave' | 'disconnect' | 'drop-in-flight';

interface Tally {
  cycles: number;
  endings: Record<Ending, number>;
  consumed: number;
}

const tally: Tally = { cycles: 0, endings: { leave: 0, disconnect: 0, 'drop-in-flight': 0 }, consumed: 0 };

/** Closes the socket and resolves once the client side saw it go. */
function closeSocket(client: TestClient): Promise<void> {
  if (!client.socket.connected) return Promise.resolve();
  const gone = new Promise<void>((resolve) => client.socket.once('disconnect', () => resolve()));
  client.close();
  return gone;
}

async function end(client: TestClient, roomId: string, ending: Ending): Promise<void> {
  tally.endings[ending]++;
  tally.cycles++;
  if (ending === 'leave') {
    await client.ok('leaveRoom', { roomId, userId: client.userId });
  } else if (ending === 'drop-in-flight') {
    // A request the server is still working on when the socket goes away.
    void client.request('createWebRtcTransport', { roomId, producing: true, consuming: true }).catch(() => undefined);
  }
  await closeSocket(client);
}

async function joinWithTwoTransports(roomId: string, name: string): Promise<{ client: TestClient; send: string; recv: string }> {
  await server.store.registerRoom(roomId); // rooms exist only once minted
  const client = await connectClient(server.url);
  await client.ok('joinRoom', { roomId, userId: client.userId, userName: name });
  const [send, recv] = await Promise.all([
    client.ok('createWebRtcTransport', { roomId, producing: true, consuming: false }),
    client.ok('createWebRtcTransport', { roomId, producing: false, consuming: true }),
  ]);
  return { client, send: send.id, recv: recv.id };
}

/** Two bot sessions: one produces, the other consumes it; then both go, each its own way. */
async function pair(roomId: string, index: number, caps: RtpCapabilities): Promise<void> {
  const producer = await joinWithTwoTransports(roomId, `P${index}`);
  const { producerId } = await producer.client.ok('produce', { transportId: producer.send, kind: 'video', rtpParameters: videoRtpParameters() });
  const consumer = await joinWithTwoTransports(roomId, `C${index}`);
  const consumed = await consumer.client.ok('consume', { producerId, rtpCapabilities: caps, transportId: consumer.recv });
  await consumer.client.ok('resumeConsumer', { consumerId: consumed.id });
  tally.consumed++;
  const endings: Ending[] = ['leave', 'leave', 'disconnect', 'disconnect', 'drop-in-flight'];
  await Promise.all([end(producer.client, roomId, endings[index % 5]!), end(consumer.client, roomId, endings[(index * 3 + 1) % 5]!)]);
}

async function runCycles(cycles: number, tag: string, caps: RtpCapabilities): Promise<void> {
  const pairs = Math.ceil(cycles / 2);
  const perBatch = BATCH_BOTS / 2;
  for (let first = 0; first < pairs; first += perBatch) {
    const batch = [];
    for (let i = first; i < Math.min(pairs, first + perBatch); i++) {
      // A few pairs share a room within a batch; every batch gets fresh rooms (new routers).
      batch.push(pair(`leak-${tag}-${Math.floor(first / perBatch)}-${i % 3}`, i, caps));
    }
    await Promise.all(batch);
  }
}

/** Listener counts per event, for every long-lived emitter whose listeners per-call code could add. */
function listenerCounts(): Record<string, number> {
  const emitters: Record<string, EventEmitter | undefined> = {
    httpServer: server.httpServer,
    io: server.signaling.io as unknown as EventEmitter,
    ioNamespace: server.signaling.io.of('/') as unknown as EventEmitter,
    ioAdapter: server.signaling.io.of('/').adapter as unknown as EventEmitter,
    ioEngine: server.signaling.io.engine as unknown as EventEmitter,
    registry: server.registry,
    pool: server.pool,
  };
  for (const w of server.pool.workers) {
    emitters[`worker${w.index}`] = w.worker as unknown as EventEmitter;
    emitters[`worker${w.index}.observer`] = w.worker.observer as unknown as EventEmitter;
    emitters[`mediaWorker${w.index}`] = w;
    emitters[`webRtcServer${w.index}`] = w.webRtcServer as unknown as EventEmitter;
    emitters[`webRtcServer${w.index}.observer`] = w.webRtcServer.observer as unknown as EventEmitter;
  }
  const counts: Record<string, number> = {};
  for (const [name, emitter] of Object.entries(emitters)) {
    if (!emitter) continue;
    for (const event of emitter.eventNames()) counts[`${name}:${String(event)}`] = emitter.listenerCount(event);
  }
  return counts;
}

function heapMb(): number {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** Everything the server and its workers hold, for the assertions and the failure messages. */
async function leftovers() {
  const workers = [];
  for (const w of server.pool.workers) {
    const dump = await w.worker.dump();
    const routers = [];
    for (const routerId of dump.routerIds) {
      const room = [...server.registry.rooms].find((r) => r.router.id === routerId);
      routers.push({ routerId, room: room?.id, transports: room ? (await room.router.dump()).transportIds.length : 'unknown (no room holds it)' });
    }
    const rtc = await w.webRtcServer.dump();
    workers.push({
      index: w.index,
      routers,
      load: w.load,
      webRtcTransports: rtc.webRtcTransportIds.length,
      iceUsernameFragments: rtc.localIceUsernameFragments.length,
    });
  }
  const io = server.signaling.io;
  return {
    rooms: [...server.registry.rooms].map((r) => r.id),
    connections: server.signaling.connections.size,
    ioSockets: io.of('/').sockets.size,
    ioRooms: io.of('/').adapter.rooms.size,
    engineClients: io.engine.clientsCount,
    workers,
  };
}

test(`${CYCLES} bot join/leave cycles leave nothing behind`, async () => {
  const started = performance.now();
  const probe = await connectClient(server.url);
  await server.store.registerRoom('leak-probe');
  await probe.ok('joinRoom', { roomId: 'leak-probe', userId: probe.userId, userName: 'Probe' });
  const { rtpCapabilities: caps } = await probe.ok('getRouterRtpCapabilities', { roomId: 'leak-probe' });
  await closeSocket(probe);
  await waitFor(() => server.registry.size === 0 && server.signaling.connections.size === 0, { what: 'probe gone' });
  const listenersBefore = listenerCounts();

  await runCycles(WARMUP_CYCLES, 'warm', caps);
  await waitFor(() => server.registry.size === 0 && server.signaling.connections.size === 0, { timeoutMs: 10_000, what: 'warm-up rooms closed' });
  const heapBaseline = heapMb();
  const rssBaseline = process.memoryUsage().rss / 1024 / 1024;
  const warmupTally = { ...tally, endings: { ...tally.endings } };

  const measuredStart = performance.now();
  await runCycles(CYCLES, 'run', caps);
  const cyclesMs = performance.now() - measuredStart;

  // Everything goes once the empty-room grace has passed.
  await waitFor(
    async () => {
      const left = await leftovers();
      return left.rooms.length === 0 && left.connections === 0 && left.engineClients === 0 && left.workers.every((w) => w.routers.length === 0);
    },
    { timeoutMs: 15_000, what: 'all rooms, routers and connections gone' },
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}; left: ${JSON.stringify(await leftovers())}`);
  });
  const left = await leftovers();
  assert.deepEqual(left.rooms, [], 'registry has no rooms');
  assert.equal(left.connections, 0, 'no signaling connections');
  assert.equal(left.ioSockets, 0, 'no socket.io sockets');
  assert.equal(left.ioRooms, 0, 'no socket.io rooms');
  assert.equal(left.engineClients, 0, 'no engine.io clients');
  for (const w of left.workers) {
    assert.deepEqual(w.routers, [], `worker ${w.index} has no routers`);
    assert.equal(w.load, 0, `worker ${w.index} counts no routers`);
    assert.deepEqual({ transports: w.webRtcTransports, ufrags: w.iceUsernameFragments }, { transports: 0, ufrags: 0 }, `worker ${w.index} WebRtcServer is empty`);
  }
  assert.deepEqual(listenerCounts(), listenersBefore, 'listener counts are back where they started');

  const heapAfter = heapMb();
  const rssAfter = process.memoryUsage().rss / 1024 / 1024;
  const measured = { cycles: tally.cycles - warmupTally.cycles, consumed: tally.consumed - warmupTally.consumed };
  console.log(
    `leak: ${measured.cycles} cycles (+${WARMUP_CYCLES} warm-up) in ${(cyclesMs / 1000).toFixed(1)} s ` +
      `(${((measured.cycles / cyclesMs) * 1000).toFixed(0)} cycles/s), ${measured.consumed} consumers; endings ${JSON.stringify(tally.endings)}\n` +
      `  heap after GC: baseline ${heapBaseline.toFixed(1)} MB, after ${heapAfter.toFixed(1)} MB (${(heapAfter - heapBaseline).toFixed(1)} MB); ` +
      `rss ${rssBaseline.toFixed(0)} → ${rssAfter.toFixed(0)} MB; total ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  assert.equal(measured.cycles, Math.ceil(CYCLES / 2) * 2);
  assert.ok(heapAfter - heapBaseline < HEAP_GROWTH_LIMIT_MB, `heap grew ${(heapAfter - heapBaseline).toFixed(1)} MB over the warm-up baseline`);
});
