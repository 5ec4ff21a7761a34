import crypto from 'node:crypto';
import { hashHostKey } from '../auth/hostKeys.ts';
import { PasswordBusyError, verifyPassword } from '../auth/passwords.ts';
import type { Role } from '../auth/tokens.ts';
import { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import { FORGOTTEN_PASSWORD_ROOM, isPasswordRoomId } from '../rooms/roomIds.ts';
import type { Handlers, RequestContext } from './context.ts';
import type { ReplyOf } from './protocol.ts';
import { stored, UserError } from './errors.ts';
import type { ValidRequest } from './schemas.ts';

const PROBE_USER_ID = 'probe';

export const ROOM_NOT_FOUND = 'this room does not exist: it was never created on this server, or it has expired. Start a new call, or ask for a new link';

/**
 * Who may join, under which name: a signed token decides when tokens are configured (its sub is the
 * userId); otherwise only rooms minted here exist. A room with a password needs it, within the
 * room's guess budget; a password room the store has forgotten stays shut.
 */
async function admit(ctx: RequestContext, request: ValidRequest<'joinRoom'>): Promise<{ userName: string; role: Role; maxParticipants?: number; hostKeyHash?: string }> {
  const { tokens, store, guesses } = ctx.services;
  let userName = request.userName;
  let role: Role = 'guest';
  if (tokens) {
    if (!request.token) throw new UserError('token_required', 'this server requires a room token');
    const grant = await tokens.verify(request.token, request.roomId);
    if (grant.sub !== request.userId) throw new UserError('invalid_request', "userId must be the room token's sub");
    ({ name: userName, role } = grant);
  }
  const info = await stored(() => store.roomInfo(request.roomId));
  if (!info && isPasswordRoomId(request.roomId)) throw new UserError('room_gone', FORGOTTEN_PASSWORD_ROOM);
  // With tokens the token issuer names the rooms; without, an id nobody minted is nobody's room to take.
  if (!info && !tokens) throw new UserError('room_not_found', ROOM_NOT_FOUND);
  if (info?.passwordHash) {
    const { password } = request;
    if (!password) throw new UserError('password_required', 'this room needs a password');
    let right;
    try {
      right = await guesses.attempt(request.roomId, () => verifyPassword(password, info.passwordHash!));
    } catch (error) {
      if (error instanceof PasswordBusyError) throw new UserError('rate_limited', error.message);
      throw error;
    }
    if (!right) throw new UserError('password_wrong', 'wrong room password');
  }
  return { userName, role, maxParticipants: info?.maxParticipants, hostKeyHash: info?.hostKeyHash };
}


/**
 * Whether the joiner is a host (a host token, the room's host credential, or made a host earlier in
 * this call), and whether it must wait in the lobby: the room is locked and it was not let in before.
 */
async function roleAndAccess(ctx: RequestContext, request: ValidRequest<'joinRoom'>, granted: Role, hostKeyHash: string | undefined, room: Room): Promise<{ role: Role; mustWait: boolean }> {
  const access = await stored(() => ctx.services.store.callAccess(request.roomId));
  room.setLocked(access.locked);
  const member = access.members.get(request.userId);
  const hasKey = !!request.hostKey && !!hostKeyHash && secretsMatch(hashHostKey(request.hostKey), hostKeyHash);
  const role: Role = granted === 'host' || hasKey || member === 'host' ? 'host' : 'guest';
  return { role, mustWait: access.locked && role !== 'host' && member === undefined };
}

/** A seat among the client address's MAX_SEATS_PER_ADDRESS, unless the socket holds one already: its release, or limit_reached. */
function takeSeatSlot(ctx: RequestContext): (() => void) | undefined {
  if (ctx.seat || ctx.exempt) return undefined;
  const release = ctx.services.seats.acquire(ctx.clientIp);
  if (!release) throw new UserError('limit_reached', 'too many participants from your address are in calls already');
  return release;
}

function secretsMatch(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function assertNotInRoom(ctx: RequestContext): void {
  if (ctx.session.active) throw new UserError('already_joined', 'already in a room: leave it first');
}

/** Gone while we awaited: never seat (or announce) a peer for a dead socket. */
function assertConnected(ctx: RequestContext): void {
  if (!ctx.socket.connected) throw new UserError('unavailable', 'disconnected');
}

function bind(ctx: RequestContext, peer: Peer, room: Room): void {
  ctx.session.bind(peer, room);
  ctx.log = ctx.socketLog.child({ roomId: room.id, userId: peer.userId });
}

/** Admits the caller and seats it in the room (taking its own seat over with the reclaimSecret). */
async function seat(ctx: RequestContext, request: ValidRequest<'joinRoom'>): Promise<ReplyOf<'joinRoom'>> {
  const { roomId, userId } = request;
  const { userName, role: granted, maxParticipants, hostKeyHash } = await admit(ctx, request);
  ctx.services.moderation.assertMayJoin(roomId, userId);
  const room = await ctx.services.registry.getOrCreate(roomId);
  if (room.closed) throw new UserError('room_closing', 'room is closing, try again');
  if (!room.policy.joinable) throw new UserError('invalid_request', 'this roomId is taken by a connection check');
  const { role, mustWait } = await roleAndAccess(ctx, request, granted, hostKeyHash, room);
  const previous = room.peers.get(userId);
  if (mustWait && !previous) return waitInLobby(ctx, room, userId, userName);
  stopWaiting(ctx);
  // Only the session that holds this seat's secret may take it over (a reconnect).
  if (previous && !(request.reclaimSecret && secretsMatch(request.reclaimSecret, previous.reclaimSecret))) {
    throw new UserError('seat_taken', 'userId is already in this room');
  }
  const max = Math.min(ctx.services.config.caps.participantsPerRoom, maxParticipants ?? Infinity);
  if (!previous && room.peers.size >= max) throw new UserError('limit_reached', `this call is full (at most ${max} participants)`);
  const placement = await room.place().catch((error: Error) => {
    if (room.closed) throw new UserError('room_closing', 'room is closing, try again');
    throw error;
  });
  if (!previous && room.peers.size >= max) throw new UserError('limit_reached', `this call is full (at most ${max} participants)`);
  assertConnected(ctx);
  if (previous) {
    ctx.evict(previous);
    room.removePeer(previous, 'replaced');
  }
  // From here on nothing awaits: the seat is taken, announced (peerJoined) and bound in one go.
  const peer = new Peer(userId, userName, ctx.socket.id, role);
  peer.place(placement);
  peer.videoCodecs = request.videoCodecs?.map((mimeType) => mimeType.toLowerCase());
  room.addPeer(peer);
  bind(ctx, peer, room);
  ctx.log.debug({ peers: room.peers.size, reclaimed: !!previous }, 'peer joined'); // the info line: src/webhooks/presenceLog.ts
  const participants = [...room.peers.values()].filter((p) => p !== peer).map((p) => ({ userId: p.userId, userName: p.userName }));
  // Packets of one socket arrive in order: the client has its secret before it sees the reply.
  ctx.socket.emit('seat', { roomId, userId, reclaimSecret: peer.reclaimSecret });
  return { participants };
}

/** A locked room: the joiner waits for a host (hosts hear lobbyChanged); it holds no seat meanwhile. */
function waitInLobby(ctx: RequestContext, room: Room, userId: string, userName: string): { lobby: true } {
  assertConnected(ctx);
  stopWaiting(ctx);
  if (!room.lobby.enter(userId, userName, ctx.socket.id)) throw new UserError('limit_reached', 'too many people are waiting to join this call, try again later');
  ctx.session.waiting = { room, userId };
  ctx.log.debug({ roomId: room.id, userId }, 'waiting in the lobby');
  return { lobby: true };
}

function stopWaiting(ctx: RequestContext): void {
  const waiting = ctx.session.waiting;
  ctx.session.waiting = undefined;
  waiting?.room.lobby.leave(waiting.userId, ctx.socket.id);
}

export const joinHandlers: Handlers<'joinRoom' | 'joinProbe' | 'leaveRoom'> = {
  async joinRoom(ctx, request) {
    assertNotInRoom(ctx);
    const slot = takeSeatSlot(ctx);
    try {
      const reply = await seat(ctx, request);
      if ('lobby' in reply) slot?.();
      else ctx.seat ??= slot;
      return reply;
    } catch (error) {
      slot?.();
      throw error;
    }
  },

  async joinProbe(ctx) {
    assertNotInRoom(ctx);
    // Unguessable, never stored or announced; its policy closes it when left or when its lifetime ends.
    const room = await ctx.services.registry.createProbeRoom(ctx.clientIp);
    if (!ctx.socket.connected) room.close('empty');
    assertConnected(ctx);
    const peer = new Peer(PROBE_USER_ID, 'Connection check', ctx.socket.id, 'guest');
    room.addPeer(peer);
    bind(ctx, peer, room);
    ctx.log.info({ worker: room.mediaWorker.index }, 'connectivity probe started');
    return { roomId: room.id, expiresInMs: room.policy.lifetimeMs ?? 0 };
  },

  async leaveRoom(ctx, { roomId, userId }) {
    const { peer } = ctx.session.joined(roomId);
    if (peer.userId !== userId) throw new UserError('invalid_request', 'userId does not match your session');
    leave(ctx);
    return {};
  },
};

/**
 * The one way out of a room, for leaveRoom and disconnect alike: everything the peer owned closes
 * (the others hear producerClosed for each producer), then it leaves (they hear userLeft).
 */
export function leave(ctx: RequestContext): void {
  stopWaiting(ctx);
  const { peer, room } = ctx.session;
  ctx.session.unbind();
  ctx.seat?.();
  ctx.seat = undefined;
  const log = ctx.log;
  ctx.log = ctx.socketLog;
  if (!peer || !room) return;
  room.removePeer(peer);
  log.debug({ peers: room.peers.size }, 'peer left'); // the info line: src/webhooks/presenceLog.ts
}
