import type { Logger } from '../log.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { followCalls } from './callEvents.ts';

/**
 * One info line per join and per leave of a call, with the room, the user, this server (`node`) and,
 * on leave, how long the seat was held: enough to follow a person across servers and restarts.
 */
export function logPresence(registry: RoomRegistry, log: Logger, nodeId: string): void {
  const presence = log.child({ component: 'presence', node: nodeId });
  followCalls(registry, {
    participantJoined(room, peer) {
      presence.info({ roomId: room.id, userId: peer.userId, role: peer.role, peers: room.peers.size }, 'participant joined');
    },
    participantLeft(room, peer, seatedMs) {
      presence.info({ roomId: room.id, userId: peer.userId, durationMs: seatedMs, durationS: Math.round(seatedMs / 1000), peers: room.peers.size }, 'participant left');
    },
  });
}
