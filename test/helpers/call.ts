import type { Parley } from '../../src/app.ts';
import { connectClient, type TestClient } from './client.ts';
import { audioRtpParameters, FAKE_DTLS, videoRtpParameters } from './fixtures.ts';

export interface JoinedClient extends TestClient {
  roomId: string;
  sendTransportId: string;
  recvTransportId: string;
}

/**
 * Rooms exist only once minted: registers `roomId` in the server's store as POST /rooms would (no
 * password), unless it is registered already. Returns the id.
 */
export async function mintRoom(server: Parley, roomId: string): Promise<string> {
  if (!(await server.store.roomInfo(roomId))) await server.store.registerRoom(roomId);
  return roomId;
}

/** Mints the room if needed, connects, joins, and creates one send and one receive transport (connected with a fake DTLS fingerprint). */
export async function joinWithTransports(server: Parley, roomId: string, userName = 'Tester'): Promise<JoinedClient> {
  await mintRoom(server, roomId);
  const client = await connectClient(server.url);
  await client.ok('joinRoom', { roomId, userId: client.userId, userName });
  const send = await client.ok('createWebRtcTransport', { roomId, producing: true, consuming: false });
  const recv = await client.ok('createWebRtcTransport', { roomId, producing: false, consuming: true });
  await client.ok('connectWebRtcTransport', { transportId: send.id, dtlsParameters: FAKE_DTLS });
  return Object.assign(client, { roomId, sendTransportId: send.id, recvTransportId: recv.id });
}

export async function produceCamera(client: JoinedClient, appData: Record<string, unknown> = { type: 'camera' }): Promise<string> {
  const { producerId } = await client.ok('produce', { transportId: client.sendTransportId, kind: 'video', rtpParameters: videoRtpParameters(), appData });
  return producerId;
}

export async function produceMic(client: JoinedClient): Promise<string> {
  const { producerId } = await client.ok('produce', { transportId: client.sendTransportId, kind: 'audio', rtpParameters: audioRtpParameters(), appData: { type: 'mic' } });
  return producerId;
}

/**
 * Totals of live mediasoup objects, read from the workers themselves (not from our Maps); limited to
 * some rooms when `roomIds` is given.
 */
export async function workerCounts(server: Parley, roomIds?: string[]): Promise<{ routers: number; transports: number; producers: number; consumers: number }> {
  const totals = { routers: 0, transports: 0, producers: 0, consumers: 0 };
  for (const { worker } of server.pool.workers) {
    const dump = await worker.dump();
    totals.routers += dump.routerIds.length;
  }
  if (roomIds) totals.routers = roomIds.filter((id) => server.registry.get(id)).length;
  for (const room of server.registry.rooms) {
    if (roomIds && !roomIds.includes(room.id)) continue;
    const dump = await room.router.dump();
    totals.transports += dump.transportIds.length;
    totals.producers += dump.mapProducerIdConsumerIds.length;
    totals.consumers += dump.mapConsumerIdProducerId.length;
  }
  return totals;
}
