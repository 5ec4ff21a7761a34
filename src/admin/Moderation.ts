import type { Server } from 'socket.io';
import type { Logger } from '../log.ts';
import type { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { UserError } from '../signaling/errors.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../signaling/protocol.ts';

/** How long a removed participant (or everyone of an ended call) is refused at join. */
export const REMOVAL_MEMORY_MS = 5 * 60 * 1000;
const MAX_REMEMBERED = 10_000;
const WHOLE_ROOM = '\u0000*';

/**
 * What an operator (the admin page) or an integrator (the server API) does to a live call: remove one
 * participant, or end the call for everyone. The person is told why (`removedFromRoom {reason}`), their
 * seat closes (the others hear userLeft), their socket is dropped, and for a few minutes a joinRoom
 * of the same (room, user) — or of anyone, for an ended call — is refused with code `removed`, so a
 * client's automatic reconnect cannot quietly seat them again.
 */
export class Moderation {
  readonly #registry: RoomRegistry;
  readonly #log: Logger;
  readonly #memoryMs: number;
  /** `${roomId}\0${userId}` (or the room with WHOLE_ROOM) → refused until (ms). */
  readonly #removed = new Map<string, number>();
  #io: Server<ClientToServerEvents, ServerToClientEvents> | undefined;

  constructor(registry: RoomRegistry, log: Logger, memoryMs = REMOVAL_MEMORY_MS) {
    this.#registry = registry;
    this.#log = log.child({ component: 'moderation' });
    this.#memoryMs = memoryMs;
  }

  /** The signaling server's sockets (made after the HTTP handler, so attached later). */
  attach(io: Server<ClientToServerEvents, ServerToClientEvents>): void {
    this.#io = io;
  }

  /** Throws UserError `removed` while (roomId, userId) may not join. */
  assertMayJoin(roomId: string, userId: string): void {
    if (this.#isRemembered(`${roomId}${WHOLE_ROOM}`)) throw new UserError('removed', 'this call was ended by its organiser');
    if (this.#isRemembered(`${roomId}\u0000${userId}`)) throw new UserError('removed', 'you were removed from this call');
  }

  /** False when there is no such live room or participant. */
  removeParticipant(roomId: string, userId: string, reason: string): boolean {
    const room = this.#liveRoom(roomId);
    const peer = room?.peers.get(userId);
    if (!room || !peer) return false;
    this.#remember(`${roomId}\u0000${userId}`);
    this.#evict(room, peer, reason);
    this.#log.info({ roomId, userId, reason }, 'participant removed');
    return true;
  }

  /** Ends a live call for everyone; false when there is no such live room. */
  endRoom(roomId: string, reason: string): boolean {
    const room = this.#liveRoom(roomId);
    if (!room) return false;
    this.#remember(`${roomId}${WHOLE_ROOM}`);
    const participants = room.peers.size;
    for (const peer of [...room.peers.values()]) this.#evict(room, peer, reason);
    room.close('empty');
    this.#log.info({ roomId, participants, reason }, 'call ended');
    return true;
  }

  #liveRoom(roomId: string): Room | undefined {
    const room = this.#registry.get(roomId);
    return room && !room.closed && room.policy.kind === 'call' ? room : undefined;
  }

  #evict(room: Room, peer: Peer, reason: string): void {
    const socket = this.#io?.sockets.sockets.get(peer.socketId);
    // Sent before anything else happens to the socket, so it arrives before the disconnect.
    socket?.emit('removedFromRoom', { reason });
    room.removePeer(peer);
    socket?.disconnect(true);
  }

  #remember(key: string): void {
    const now = Date.now();
    for (const [k, until] of this.#removed) if (until <= now) this.#removed.delete(k);
    this.#removed.delete(key);
    this.#removed.set(key, now + this.#memoryMs);
    while (this.#removed.size > MAX_REMEMBERED) this.#removed.delete(this.#removed.keys().next().value!);
  }

  #isRemembered(key: string): boolean {
    const until = this.#removed.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#removed.delete(key);
    return false;
  }
}
