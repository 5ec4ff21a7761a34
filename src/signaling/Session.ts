import type { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import { UserError } from './errors.ts';

/** What a socket is allowed to touch: bound at joinRoom/joinProbe, cleared at leave. */
export class Session {
  peer: Peer | undefined;
  room: Room | undefined;
  /** While waiting in a locked room's lobby (no seat, nothing else allowed). */
  waiting: { room: Room; userId: string } | undefined;

  /** The caller's live peer and room, or not_joined when it has not joined (or its room is gone). */
  joined(roomId?: string): { peer: Peer; room: Room } {
    const { peer, room } = this;
    if (!peer || !room || peer.closed || room.closed) throw new UserError('not_joined', 'not in a room: call joinRoom first');
    if (roomId !== undefined && roomId !== room.id) throw new UserError('not_joined', 'roomId does not match the room you joined');
    return { peer, room };
  }

  /** True while bound to a peer that is still seated (a closed room or a reclaimed seat unbinds in effect). */
  get active(): boolean {
    return !!this.peer && !this.peer.closed;
  }

  bind(peer: Peer, room: Room): void {
    this.peer = peer;
    this.room = room;
  }

  unbind(): void {
    this.peer = undefined;
    this.room = undefined;
  }
}
