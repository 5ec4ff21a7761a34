import type { Peer } from '../rooms/Peer.ts';
import type { Room, RoomCloseReason } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';

/** What integrators and logs care about in a call, derived from the rooms' domain events. */
export interface CallListener {
  roomStarted?(room: Room): void;
  participantJoined?(room: Room, peer: Peer): void;
  /** `seatedMs`: how long the peer held its seat. */
  participantLeft?(room: Room, peer: Peer, seatedMs: number): void;
  roomFinished?(room: Room, reason: RoomCloseReason): void;
}

/**
 * Follows every call room (never a connection check's private room) from the moment it opens.
 * A room that closes with people inside emits no peerLeft (see RoomEvents), so they are reported as
 * having left, before the room finishes. A seat taken over by the same user's new connection (a
 * reconnect) is neither a leave nor a join.
 */
export function followCalls(registry: RoomRegistry, listener: CallListener): void {
  registry.on('roomOpened', (room) => {
    if (room.policy.kind !== 'call') return;
    const seatedSince = new Map<Peer, number>();
    listener.roomStarted?.(room);
    room.on('peerJoined', (peer) => {
      // A reclaimed seat: the new Peer stands for the same person, seated since the first join.
      const previous = [...seatedSince.keys()].find((p) => p.userId === peer.userId);
      if (previous) {
        seatedSince.set(peer, seatedSince.get(previous)!);
        seatedSince.delete(previous);
        return;
      }
      seatedSince.set(peer, Date.now());
      listener.participantJoined?.(room, peer);
    });
    room.on('peerLeft', (peer, reason) => {
      if (reason === 'replaced') return; // the joiner's peerJoined follows and takes the entry over
      const since = seatedSince.get(peer);
      if (since === undefined) return;
      seatedSince.delete(peer);
      listener.participantLeft?.(room, peer, Date.now() - since);
    });
    room.once('closed', (reason) => {
      const now = Date.now();
      for (const [peer, since] of seatedSince) listener.participantLeft?.(room, peer, now - since);
      seatedSince.clear();
      listener.roomFinished?.(room, reason);
    });
  });
}
