import type { Server } from 'socket.io';
import type { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { ClientToServerEvents, ServerToClientEvents } from './protocol.ts';

/** Socket.IO room name for a room's participants (prefixed so it never collides with a socket id). */
export const channelOf = (roomId: string) => `room:${roomId}`;

/**
 * The one place that tells participants what happens in their room: it follows every room from the
 * moment it opens and turns its events into the protocol's server→client events. Each participant's
 * socket is in its room's channel while seated; what a participant did itself is never echoed to it.
 */
export class RoomBroadcaster {
  readonly #io: Server<ClientToServerEvents, ServerToClientEvents>;

  constructor(io: Server<ClientToServerEvents, ServerToClientEvents>, registry: RoomRegistry) {
    this.#io = io;
    registry.on('roomOpened', (room) => this.#follow(room));
  }

  #follow(room: Room): void {
    const channel = channelOf(room.id);
    const io = this.#io;
    const othersThan = (peer: Peer) => io.to(channel).except(peer.socketId);
    room.on('peerJoined', (peer) => {
      io.in(peer.socketId).socketsJoin(channel);
      othersThan(peer).emit('userJoined', { userId: peer.userId, userName: peer.userName });
      // A joiner sees who is speaking at once, not only at the next change.
      const speaker = room.speakers?.speaker;
      if (speaker) io.to(peer.socketId).emit('activeSpeaker', { userId: speaker });
    });
    room.on('peerLeft', (peer, reason) => {
      io.in(peer.socketId).socketsLeave(channel);
      // A seat taken over by the same user's new connection: for the others, nobody left.
      if (reason === 'left') othersThan(peer).emit('userLeft', { userId: peer.userId });
    });
    room.on('producerAdded', (peer, producer) => {
      othersThan(peer).emit('newProducer', { producerId: producer.id, userId: peer.userId, kind: producer.kind, appData: producer.appData });
    });
    room.on('producerClosed', (peer, producer) => othersThan(peer).emit('producerClosed', { producerId: producer.id }));
    room.on('producerPaused', (peer, producer) => othersThan(peer).emit('producerPaused', { producerId: producer.id, userId: peer.userId }));
    room.on('producerResumed', (peer, producer) => othersThan(peer).emit('producerResumed', { producerId: producer.id, userId: peer.userId }));
    room.on('activeSpeaker', (userId) => io.to(channel).emit('activeSpeaker', { userId }));
    room.on('consumerLayersChanged', (peer, consumer, layers) =>
      io.to(peer.socketId).emit('consumerLayersChanged', { consumerId: consumer.id, spatialLayer: layers?.spatialLayer ?? null, temporalLayer: layers?.temporalLayer ?? null }),
    );
    room.on('consumerScore', (peer, consumer, { score, producerScore }) => io.to(peer.socketId).emit('consumerScore', { consumerId: consumer.id, score, producerScore }));
    room.once('closed', (reason) => {
      // Closed under its peers: they must join again (a fresh room is made). An empty room has nobody
      // to tell; an expired one (a probe past its lifetime) ends its sockets, as its joinProbe reply said.
      if (reason === 'worker-died' || reason === 'shutdown') io.to(channel).emit('roomClosed', { roomId: room.id, reason });
      if (reason === 'expired') io.in(channel).disconnectSockets(true);
      io.in(channel).socketsLeave(channel);
    });
  }
}
