import type { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import { UserError } from './errors.ts';

/** What a socket is allowed to touch: bound at joinRoom, cleared at leave. */
export class Session {
  readonly socketId: string;
  peer: Peer | undefined;
  room: Room | undefined;
  /** Ends a connectivity probe that outstays its welcome (joinProbe); disarmed when the probe is left. */
  probeExpiry: NodeJS.Timeout | undefined;

  constructor(socketId: string) {
    this.socketId = socketId;
  }

  /** The caller's live peer and room, or a user error when it has not joined (or its room is gone). */
  joined(roomId?: string): { peer: Peer; room: Room } {
    const { peer, room } = this;
    if (!peer || !room || peer.closed || room.closed) throw new UserError('not in a room: call joinRoom first');
    if (roomId !== undefined && roomId !== room.id) throw new UserError('roomId does not match the room you joined');
    return { peer, room };
  }

  unbind(): void {
    this.peer = undefined;
    this.room = undefined;
    clearTimeout(this.probeExpiry);
    this.probeExpiry = undefined;
  }
}
