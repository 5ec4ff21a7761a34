/**
 * The floor under a receiver's downlink share (src/media/downlinkFloor.ts), read back from the worker:
 * it follows the videos the receiver is being sent, not its audio, paused or closed ones.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { FLOOR_PER_VIDEO_BPS } from '../../src/media/downlinkFloor.ts';
import { joinWithTransports, produceCamera, produceMic, type JoinedClient } from '../helpers/call.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOM = 'floor-room';
let server: Parley;
const clients: JoinedClient[] = [];

before(async () => {
  server = await startTestServer();
});
after(async () => {
  for (const client of clients) client.close();
  await server.close();
});

async function join(name: string): Promise<JoinedClient> {
  const client = await joinWithTransports(server, ROOM, name);
  clients.push(client);
  return client;
}

test("a receiver's downlink floor is one share per video it is sent, and follows pauses and closes", async () => {
  const senders = [await join('A'), await join('B'), await join('C')];
  const cameras = await Promise.all(senders.map((s) => produceCamera(s)));
  const mic = await produceMic(senders[0]!);
  const viewer = await join('Viewer');
  const transport = server.registry.get(ROOM)!.peers.get(viewer.userId)!.transports.get(viewer.recvTransportId)!;
  const floor = async () => (await transport.getStats())[0]?.minOutgoingBitrate ?? 0;
  const floorIs = (videos: number, what: string) => waitFor(async () => (await floor()) === videos * FLOOR_PER_VIDEO_BPS, { timeoutMs: 5000, what: `floor for ${what}` });

  const { rtpCapabilities } = await viewer.ok('getRouterRtpCapabilities', { roomId: ROOM });
  const consumers = [];
  for (const producerId of [...cameras, mic]) consumers.push(await viewer.ok('consume', { producerId, rtpCapabilities, transportId: viewer.recvTransportId }));
  // Consumers start paused (until the viewer resumes them): nothing is sent yet, no floor.
  assert.equal(await floor(), 0);
  for (const consumer of consumers) await viewer.ok('resumeConsumer', { consumerId: consumer.id });
  await floorIs(3, 'three cameras (the microphone does not count)');

  await viewer.ok('pauseConsumer', { consumerId: consumers[0]!.id });
  await floorIs(2, 'a tile the viewer hid');
  await senders[1]!.ok('pauseProducer', { producerId: cameras[1]! });
  await floorIs(1, 'a camera its sender turned off');
  await senders[2]!.ok('producerClosed', { producerId: cameras[2]! });
  await floorIs(0, 'a camera gone');
  await viewer.ok('resumeConsumer', { consumerId: consumers[0]!.id });
  await floorIs(1, 'the hidden tile shown again');
});
