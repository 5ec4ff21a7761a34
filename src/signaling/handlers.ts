import crypto from 'node:crypto';
import type { Socket } from 'socket.io';
import { verifyPassword } from '../auth/passwords.ts';
import type { Role, TokenVerifier } from '../auth/tokens.ts';
import { checkName } from '../shared/names.ts';
import type { types } from 'mediasoup';
import type { Logger } from '../log.ts';
import { Peer, type TransportAppData } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { FORGOTTEN_PASSWORD_ROOM, isPasswordRoomId } from '../rooms/roomIds.ts';
import { addressKey } from './rateLimits.ts';
import { StoreUnavailableError, type RoomStateStore } from '../store/RoomStateStore.ts';
import { UserError } from './errors.ts';
import type { ClientToServerEvents, ReplyOf, RequestName, ServerToClientEvents } from './protocol.ts';
import type { ValidRequest } from './schemas.ts';
import type { Session } from './Session.ts';

export type ParleySocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export interface HandlerContext {
  session: Session;
  socket: ParleySocket;
  registry: RoomRegistry;
  store: RoomStateStore;
  log: Logger;
  /** Signed room tokens are required when set (AUTH_SECRET / AUTH_PUBLIC_KEY). */
  tokens: TokenVerifier | undefined;
  /** The client's address (for per-address caps). */
  clientIp: string;
  probeLifetimeMs: number;
  /** Unbinds and disconnects the socket that holds `peer` (its seat was reclaimed). */
  evict(peer: Peer): void;
}

/**
 * Who may join, under which name: a signed token decides when tokens are configured; a room with a
 * password needs it.
 */
async function admit(ctx: HandlerContext, request: ValidRequest<'joinRoom'>): Promise<{ userName: string; role: Role }> {
  let userName = request.userName;
  let role: Role = 'guest';
  if (ctx.tokens) {
    if (!request.token) throw new UserError('this server requires a room token');
    const grant = await ctx.tokens.verify(request.token, request.roomId);
    if ('error' in grant) throw new UserError(grant.error);
    const name = checkName(grant.name);
    if (!name.ok) throw new UserError('room token has an invalid name');
    userName = name.name;
    role = grant.role;
  }
  let info;
  try {
    info = await ctx.store.roomInfo(request.roomId);
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw new UserError('room service temporarily unavailable, try again');
    throw error;
  }
  if (!info && isPasswordRoomId(request.roomId)) throw new UserError(FORGOTTEN_PASSWORD_ROOM);
  if (info?.passwordHash) {
    if (!request.password) throw new UserError('this room needs a password');
    if (!(await verifyPassword(request.password, info.passwordHash))) throw new UserError('wrong room password');
  }
  return { userName, role };
}

function secretsMatch(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** How long a connectivity probe may keep its room before the server ends its socket (a check needs ~10 s). */
export const PROBE_LIFETIME_MS = 20_000;
const PROBE_USER_ID = 'probe';

type Handler<E extends RequestName> = (ctx: HandlerContext, request: ValidRequest<E>) => Promise<ReplyOf<E>>;
export type Handlers = { [E in RequestName]: Handler<E> };

/** Socket.IO room name for a call (prefixed so it never collides with a socket id). */
export const channelOf = (roomId: string) => `room:${roomId}`;

function ownTransport(peer: Peer, transportId: string): types.WebRtcTransport<TransportAppData> {
  const transport = peer.transports.get(transportId);
  if (!transport) throw new UserError('unknown transportId');
  return transport;
}

function ownProducer(peer: Peer, producerId: string): types.Producer {
  const producer = peer.producers.get(producerId);
  if (!producer) throw new UserError('unknown producerId');
  return producer;
}

/**
 * A media operation on parameters the client chose. Its payload already passed the schema, so what
 * mediasoup or its worker still rejects (bad codec, a MID or SSRC already in use, an object closed
 * by a racing close) is the client's request failing, not the server: an error reply, not an alarm.
 */
async function media<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new UserError(`${what} failed: ${(error as Error).message}`);
  }
}

export const handlers: Handlers = {
  async joinRoom(ctx, request) {
    if (ctx.session.peer && !ctx.session.peer.closed) throw new UserError('already in a room: leave it first');
    const { roomId, userId } = request;
    const { userName, role } = await admit(ctx, request);
    const room = await ctx.registry.getOrCreate(roomId);
    if (room.closed) throw new UserError('room is closing, try again');
    if (room.probe) throw new UserError('this roomId is taken by a connection check');
    const previous = room.peers.get(userId);
    if (previous) {
      // Only the session that holds this seat's secret may take it over (a reconnect).
      if (!request.reclaimSecret || !secretsMatch(request.reclaimSecret, previous.reclaimSecret)) throw new UserError('userId is already in this room');
      ctx.evict(previous);
      room.removePeer(previous);
      room.log.info({ userId }, 'seat reclaimed by a new connection');
    }
    const peer = new Peer(userId, userName, ctx.socket.id, role);
    // Reserve the userId before awaiting the store, so a concurrent join with it is refused.
    room.addPeer(peer);
    try {
      await ctx.store.addMember(roomId, { userId, userName });
    } catch (error) {
      room.removePeer(peer);
      if (error instanceof StoreUnavailableError) throw new UserError('room service temporarily unavailable, try again');
      throw error;
    }
    if (peer.closed || room.closed) throw new UserError('room closed while joining, try again');
    if (!ctx.socket.connected) {
      // Gone while we awaited: never bind (or announce) a seat for a dead socket.
      room.removePeer(peer);
      throw new UserError('disconnected');
    }
    ctx.session.peer = peer;
    ctx.session.room = room;
    await ctx.socket.join(channelOf(roomId));
    ctx.socket.to(channelOf(roomId)).emit('userJoined', { userId, userName });
    room.log.info({ userId, peers: room.peers.size }, 'peer joined');
    const participants = [...room.peers.values()].filter((p) => p !== peer).map((p) => ({ userId: p.userId, userName: p.userName }));
    // Packets of one socket arrive in order: the client has its secret before it sees the reply.
    ctx.socket.emit('seat', { roomId, userId, reclaimSecret: peer.reclaimSecret });
    return { participants };
  },

  async joinProbe(ctx) {
    if (ctx.session.peer && !ctx.session.peer.closed) throw new UserError('already in a room: leave it first');
    // Unguessable, never stored or announced, closed the moment its one peer leaves.
    const room = await ctx.registry.createProbeRoom(addressKey(ctx.clientIp));
    if (room === 'busy') throw new UserError('too many connection checks are running, try again in a minute');
    if (room === 'yours-busy') throw new UserError('connection checks from your address are already running, try again in a minute');
    const peer = new Peer(PROBE_USER_ID, 'Connection check', ctx.socket.id, 'guest');
    room.addPeer(peer);
    if (!ctx.socket.connected) {
      room.removePeer(peer);
      throw new UserError('disconnected');
    }
    ctx.session.peer = peer;
    ctx.session.room = room;
    // A check takes seconds; a stray one must not hold a router. Ending the socket takes the usual
    // cleanup path; leaving the probe first (leave) disarms this.
    ctx.session.probeExpiry = setTimeout(() => {
      if (ctx.session.room === room) ctx.socket.disconnect(true);
    }, ctx.probeLifetimeMs).unref();
    room.log.info({ worker: room.mediaWorker.index }, 'connectivity probe started');
    return { roomId: room.id, expiresInMs: ctx.probeLifetimeMs };
  },

  async leaveRoom(ctx, { roomId, userId }) {
    const { peer } = ctx.session.joined(roomId);
    if (peer.userId !== userId) throw new UserError('userId does not match your session');
    await leave(ctx);
    return {};
  },

  async getRouterRtpCapabilities(ctx, { roomId }) {
    const { room } = ctx.session.joined(roomId);
    return { rtpCapabilities: room.router.rtpCapabilities };
  },

  async createWebRtcTransport(ctx, request) {
    const { peer, room } = ctx.session.joined(request.roomId);
    // The seed sends only the flag it means ({producing: true}); with neither given, the transport may do both.
    const neitherGiven = request.producing === undefined && request.consuming === undefined;
    const producing = neitherGiven || request.producing === true;
    const consuming = neitherGiven || request.consuming === true;
    if (!producing && !consuming) throw new UserError('a transport must be producing, consuming or both');
    const { limits } = room;
    if (peer.transports.size >= limits.transports) throw new UserError(`at most ${limits.transports} transports per participant`);
    const transport = await room.router.createWebRtcTransport<TransportAppData>({
      webRtcServer: room.mediaWorker.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: 1_000_000,
      appData: { producing, consuming },
    });
    peer.addTransport(transport);
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  },

  async connectWebRtcTransport(ctx, { transportId, dtlsParameters }) {
    const { peer } = ctx.session.joined();
    const transport = ownTransport(peer, transportId);
    if (transport.appData.connectRequested) throw new UserError('transport is already connected');
    transport.appData.connectRequested = true;
    await media('connect', () => transport.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }));
    return {};
  },

  async produce(ctx, { transportId, kind, rtpParameters, appData }) {
    const { peer, room } = ctx.session.joined();
    const transport = ownTransport(peer, transportId);
    if (!transport.appData.producing) throw new UserError('transport was not created for producing');
    const { limits } = room;
    if (peer.producers.size >= limits.producers) throw new UserError(`at most ${limits.producers} producers per participant`);
    const mediaCodecs = rtpParameters.codecs.filter((c) => !/\/(rtx|red|ulpfec|flexfec)$/i.test(c.mimeType));
    if (!mediaCodecs.every((c) => c.mimeType.toLowerCase().startsWith(`${kind}/`))) throw new UserError(`rtpParameters codecs do not match kind ${kind}`);
    const producer = await media('produce', () =>
      transport.produce({ kind, rtpParameters: rtpParameters as types.RtpParameters, appData: { ...appData } }),
    );
    peer.addProducer(producer);
    if (producer.closed) throw new UserError('produce failed: the transport closed meanwhile');
    watchProducer(ctx, room, peer, producer);
    ctx.socket.to(channelOf(room.id)).emit('newProducer', producerInfo(peer, producer));
    return { producerId: producer.id };
  },

  async consume(ctx, { producerId, rtpCapabilities, transportId }) {
    const { peer, room } = ctx.session.joined();
    if (room.probe) throw new UserError('a connection check cannot consume');
    const found = room.findProducer(producerId);
    if (!found) throw new UserError('unknown producerId');
    if (found.owner === peer) throw new UserError('cannot consume your own producer');
    // Without a transportId: the newest consuming transport (a client that makes one per consumer,
    // as the seed's flow does, means the one it just created).
    const transport = transportId ? ownTransport(peer, transportId) : [...peer.transports.values()].findLast((t) => t.appData.consuming);
    if (!transport || !transport.appData.consuming) throw new UserError('no consuming transport: create one first');
    if (peer.consumers.size >= room.limits.consumers) throw new UserError(`at most ${room.limits.consumers} consumers per participant`);
    const caps = rtpCapabilities as types.RtpCapabilities;
    if (!(await media('consume', async () => room.router.canConsume({ producerId, rtpCapabilities: caps })))) {
      throw new UserError('cannot consume this producer with the given rtpCapabilities');
    }
    const consumer = await media('consume', () =>
      transport.consume({ producerId, rtpCapabilities: caps, paused: true, appData: { userId: found.owner.userId } }),
    );
    peer.addConsumer(consumer);
    if (consumer.closed) throw new UserError('consume failed: the producer closed meanwhile');
    return {
      id: consumer.id,
      producerId,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
      appData: found.producer.appData,
      userId: found.owner.userId,
    };
  },

  async resumeConsumer(ctx, { consumerId }) {
    const { peer } = ctx.session.joined();
    const consumer = peer.consumers.get(consumerId);
    if (!consumer) throw new UserError('unknown consumerId');
    await media('resumeConsumer', () => consumer.resume());
    return {};
  },

  async restartIce(ctx, { transportId }) {
    const { peer } = ctx.session.joined();
    const transport = ownTransport(peer, transportId);
    const iceParameters = await media('restartIce', () => transport.restartIce());
    return { iceParameters };
  },

  async producerClosed(ctx, { producerId }) {
    const { peer } = ctx.session.joined();
    // The producer's close observer tells the others.
    ownProducer(peer, producerId).close();
    return {};
  },

  async pauseProducer(ctx, { producerId }) {
    const { peer, room } = ctx.session.joined();
    const producer = ownProducer(peer, producerId);
    if (!producer.paused) {
      await media('pauseProducer', () => producer.pause());
      ctx.socket.to(channelOf(room.id)).emit('producerPaused', { producerId, userId: peer.userId });
    }
    return {};
  },

  async resumeProducer(ctx, { producerId }) {
    const { peer, room } = ctx.session.joined();
    const producer = ownProducer(peer, producerId);
    if (producer.paused) {
      await media('resumeProducer', () => producer.resume());
      ctx.socket.to(channelOf(room.id)).emit('producerResumed', { producerId, userId: peer.userId });
    }
    return {};
  },

  async getProducers(ctx, { roomId }) {
    const { peer, room } = ctx.session.joined(roomId);
    const producers = [];
    for (const other of room.peers.values()) {
      if (other === peer) continue;
      for (const producer of other.producers.values()) {
        producers.push(producerInfo(other, producer));
        // The reply keeps the contract's shape; mute state travels as the event that reports it anyway.
        if (producer.paused) ctx.socket.emit('producerPaused', { producerId: producer.id, userId: other.userId });
      }
    }
    return { producers };
  },
};

function producerInfo(peer: Peer, producer: types.Producer) {
  return { producerId: producer.id, userId: peer.userId, kind: producer.kind, appData: producer.appData };
}

/** Whenever a producer ends (asked, transport closed, peer left), the others hear producerClosed. */
function watchProducer(ctx: HandlerContext, room: Room, peer: Peer, producer: types.Producer): void {
  producer.observer.once('close', () => {
    if (room.closed) return;
    ctx.socket.nsp.to(channelOf(room.id)).except(ctx.socket.id).emit('producerClosed', { producerId: producer.id });
    room.log.debug({ userId: peer.userId, producerId: producer.id }, 'producer closed');
  });
}

/**
 * The one way out of a room, for leaveRoom and disconnect alike: producers close (others hear
 * producerClosed), everything the peer owned closes, the others hear userLeft.
 */
export async function leave(ctx: HandlerContext): Promise<void> {
  const { peer, room } = ctx.session;
  ctx.session.unbind();
  if (!peer || !room) return;
  if (room.probe) {
    // Nobody else is in a probe room and the store never heard of it: closing the peer closes the room.
    room.removePeer(peer);
    room.log.info('connectivity probe ended');
    return;
  }
  const wasMember = room.peers.get(peer.userId) === peer;
  room.removePeer(peer);
  if (!room.closed && wasMember) {
    ctx.socket.nsp.to(channelOf(room.id)).except(ctx.socket.id).emit('userLeft', { userId: peer.userId });
  }
  void ctx.socket.leave(channelOf(room.id));
  room.log.info({ userId: peer.userId, peers: room.peers.size }, 'peer left');
  if (wasMember) {
    await ctx.store.removeMember(room.id, peer.userId).catch((error) => {
      room.log.warn({ err: error, userId: peer.userId }, 'could not remove member from room state');
      ctx.registry.markDirty(room.id);
    });
  }
}
