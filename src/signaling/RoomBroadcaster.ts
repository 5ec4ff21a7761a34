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
      // A host joiner is a host for everyone (itself included).
      if (peer.role === 'host') io.to(channel).emit('roleChanged', { userId: peer.userId, role: 'host' });
      // What the joiner needs to know of the room as it is (before its join reply).
      const joiner = io.to(peer.socketId);
      for (const other of room.peers.values()) {
        if (other === peer) continue;
        if (other.role === 'host') joiner.emit('roleChanged', { userId: other.userId, role: 'host' });
        if (other.handRaisedAt !== null) joiner.emit('handRaised', { userId: other.userId, raised: true, raisedAt: other.handRaisedAt });
      }
      if (room.locked) joiner.emit('roomLocked', { locked: true });
      joiner.emit('videoCodec', { mimeType: room.videoCodec });
      if (peer.role === 'host' && room.lobby.size > 0) joiner.emit('lobbyChanged', { waiting: room.lobby.waiting });
      const speaker = room.speakers?.speaker;
      if (speaker) joiner.emit('activeSpeaker', { userId: speaker });
    });
    // Like a room closed under them, for the participants of a worker that died: they join again.
    room.on('peerLost', (peer) => io.to(peer.socketId).emit('roomClosed', { roomId: room.id, reason: 'worker-died' }));
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
    room.on('chatMessage', (message) => io.to(channel).emit('chatMessage', message));
    room.on('handRaised', (peer) => io.to(channel).emit('handRaised', { userId: peer.userId, raised: peer.handRaisedAt !== null, raisedAt: peer.handRaisedAt }));
    room.on('reaction', (peer, emoji) => io.to(channel).emit('reaction', { userId: peer.userId, emoji }));
    room.on('roleChanged', (peer) => {
      io.to(channel).emit('roleChanged', { userId: peer.userId, role: peer.role });
      // A new host sees who waits; a former one no longer does.
      io.to(peer.socketId).emit('lobbyChanged', { waiting: peer.role === 'host' ? room.lobby.waiting : [] });
    });
    room.on('locked', (locked) => io.to(channel).emit('roomLocked', { locked }));
    room.on('videoCodec', (mimeType) => io.to(channel).emit('videoCodec', { mimeType }));
    room.on('lobbyChanged', (waiting) => {
      const hosts = [...room.peers.values()].filter((p) => p.role === 'host').map((p) => p.socketId);
      if (hosts.length > 0) io.to(hosts).emit('lobbyChanged', { waiting });
    });
    room.on('admitted', (socketId) => io.to(socketId).emit('admitted', {}));
    room.on('denied', (socketId) => io.to(socketId).emit('denied', {}));
    room.on('unmuteRequested', (peer) => io.to(peer.socketId).emit('unmuteRequested', {}));
    room.on('ownerTold', (peer, what, producer) => {
      if (what === 'producerPaused') io.to(peer.socketId).emit('producerPaused', { producerId: producer.id, userId: peer.userId });
      else io.to(peer.socketId).emit('producerClosed', { producerId: producer.id });
    });
    room.once('closed', (reason) => {
      // Closed under its peers: they must join again (a fresh room is made). An empty room has nobody
      // to tell; an expired one (a probe past its lifetime) ends its sockets, as its joinProbe reply said.
      if (reason === 'worker-died' || reason === 'shutdown') io.to(channel).emit('roomClosed', { roomId: room.id, reason });
      if (reason === 'expired') io.in(channel).disconnectSockets(true);
      io.in(channel).socketsLeave(channel);
    });
  }
}
