import type { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import { inCall } from './callHandlers.ts';
import type { Handlers, RequestContext } from './context.ts';
import { stored, UserError } from './errors.ts';

/** The caller's room, if the caller is a host of it (its role comes from its seat, never the payload). */
function asHost(ctx: RequestContext): { peer: Peer; room: Room } {
  const joined = inCall(ctx);
  if (joined.peer.role !== 'host') throw new UserError('forbidden', 'only a host can do that');
  return joined;
}

/** Someone seated in the caller's own room. */
function target(room: Room, userId: string): Peer {
  const peer = room.peers.get(userId);
  if (!peer) throw new UserError('not_found', 'no participant with that userId in this room');
  return peer;
}

export const DEFAULT_REMOVAL_REASON = 'A host removed you from the call.';

/** What a host may do to the room and the people in it. A guest gets `forbidden` and nothing happens. */
export const hostHandlers: Handlers<
  'hostMuteParticipant' | 'hostAskToUnmute' | 'hostStopScreenShare' | 'hostRemoveParticipant' | 'hostLowerHand' | 'setRoomLocked' | 'admitParticipant' | 'denyParticipant' | 'setParticipantRole'
> = {
  async hostMuteParticipant(ctx, { userId }) {
    const { room } = asHost(ctx);
    const peer = target(room, userId);
    for (const producer of peer.producers.values()) {
      if (producer.kind !== 'audio' || producer.appData.type === 'screen' || producer.paused) continue;
      await producer.pause().catch(() => {});
      // The others hear producerPaused from the pause itself; its owner must hear it too (its button turns off).
      room.tellOwner(peer, 'producerPaused', producer);
    }
    return {};
  },

  async hostAskToUnmute(ctx, { userId }) {
    const { room } = asHost(ctx);
    room.askToUnmute(target(room, userId));
    return {};
  },

  async hostStopScreenShare(ctx, { userId }) {
    const { room } = asHost(ctx);
    const peer = target(room, userId);
    for (const producer of [...peer.producers.values()]) {
      if (producer.appData.type !== 'screen') continue;
      producer.close();
      room.tellOwner(peer, 'producerClosed', producer);
    }
    return {};
  },

  async hostRemoveParticipant(ctx, { userId, reason }) {
    const { peer: host, room } = asHost(ctx);
    if (userId === host.userId) throw new UserError('invalid_request', 'use leaveRoom to leave');
    target(room, userId);
    ctx.services.moderation.removeParticipant(room.id, userId, reason || DEFAULT_REMOVAL_REASON);
    return {};
  },

  async hostLowerHand(ctx, { userId }) {
    const { room } = asHost(ctx);
    room.setHandRaised(target(room, userId), false);
    return {};
  },

  async setRoomLocked(ctx, { locked }) {
    const { room } = asHost(ctx);
    const { store } = ctx.services;
    if (locked) {
      // Everyone here now may come back (a reconnect, a reload) without waiting in the lobby.
      await stored(() => Promise.all([...room.peers.values()].map((p) => store.setMember(room.id, p.userId, p.role))));
    }
    await stored(() => store.setLocked(room.id, locked));
    room.setLocked(locked);
    return {};
  },

  async admitParticipant(ctx, { userId }) {
    const { room } = asHost(ctx);
    if (!room.lobby.waiting.some((w) => w.userId === userId)) throw new UserError('not_found', 'nobody with that userId waits in the lobby');
    await stored(() => ctx.services.store.setMember(room.id, userId, 'guest'));
    room.lobby.admit(userId);
    return {};
  },

  async denyParticipant(ctx, { userId }) {
    const { room } = asHost(ctx);
    if (!room.lobby.deny(userId)) throw new UserError('not_found', 'nobody with that userId waits in the lobby');
    return {};
  },

  async setParticipantRole(ctx, { userId, role }) {
    const { room } = asHost(ctx);
    const peer = target(room, userId);
    await stored(() => ctx.services.store.setMember(room.id, userId, role));
    room.setRole(peer, role);
    return {};
  },
};
