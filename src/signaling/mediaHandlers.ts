import type { types } from 'mediasoup';
import type { Peer, TransportAppData } from '../rooms/Peer.ts';
import type { PeerLimits } from '../rooms/RoomPolicy.ts';
import { mintTurnCredentials } from '../auth/turnCredentials.ts';
import { keepDownlinkFloor } from '../media/downlinkFloor.ts';
import type { Handlers, RequestContext } from './context.ts';
import type { IceServer } from './protocol.ts';
import { UserError } from './errors.ts';

function ownTransport(peer: Peer, transportId: string): types.WebRtcTransport<TransportAppData> {
  const transport = peer.transports.get(transportId);
  if (!transport) throw new UserError('not_found', 'unknown transportId');
  return transport;
}

function ownProducer(peer: Peer, producerId: string): types.Producer {
  const producer = peer.producers.get(producerId);
  if (!producer) throw new UserError('not_found', 'unknown producerId');
  return producer;
}

function ownConsumer(peer: Peer, consumerId: string): types.Consumer {
  const consumer = peer.consumers.get(consumerId);
  if (!consumer) throw new UserError('not_found', 'unknown consumerId');
  return consumer;
}

/** With TURN configured: the relay, with credentials for this participant (renewed on every call). */
function iceServersFor(ctx: RequestContext, peer: Peer): { iceServers?: IceServer[] } {
  const turn = ctx.services.turn;
  return turn ? { iceServers: [mintTurnCredentials(turn, peer.userId)] } : {};
}

/** Spatial and temporal layers a consumer's producer sends (from its scalability mode, e.g. L3T3). */
function layersOf(consumer: types.Consumer): { spatial: number; temporal: number } {
  const mode = consumer.rtpParameters.encodings?.[0]?.scalabilityMode ?? '';
  const match = /^[LS](\d+)T(\d+)/.exec(mode);
  return match ? { spatial: Number(match[1]), temporal: Number(match[2]) } : { spatial: 1, temporal: 1 };
}

/** A place for one more `kind` within the room's per-participant limit, or limit_reached. */
function reserve(peer: Peer, kind: keyof PeerLimits, limits: PeerLimits): () => void {
  const release = peer.reserve(kind, limits[kind]);
  if (!release) throw new UserError('limit_reached', limits[kind] === 0 ? `cannot make ${kind} in this room` : `at most ${limits[kind]} ${kind} per participant`);
  return release;
}

/**
 * A media operation on parameters the client chose. Its payload already passed the schema, so what
 * mediasoup or its worker still rejects (bad codec, a MID or SSRC already in use, an object closed
 * by a racing close) is the client's request failing, not the server: media_rejected, not an alarm.
 */
async function media<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new UserError('media_rejected', `${what} failed: ${(error as Error).message}`);
  }
}

type MediaRequest =
  | 'getRouterRtpCapabilities'
  | 'createWebRtcTransport'
  | 'connectWebRtcTransport'
  | 'produce'
  | 'consume'
  | 'resumeConsumer'
  | 'restartIce'
  | 'producerClosed'
  | 'pauseProducer'
  | 'resumeProducer'
  | 'getProducers'
  | 'pauseConsumer'
  | 'setConsumerPreferredLayers'
  | 'setConsumerPriority'
  | 'requestConsumerKeyFrame';

export const mediaHandlers: Handlers<MediaRequest> = {
  async getRouterRtpCapabilities(ctx, { roomId }) {
    const { room } = ctx.session.joined(roomId);
    return { rtpCapabilities: room.router.rtpCapabilities };
  },

  async createWebRtcTransport(ctx, request) {
    const { peer, room } = ctx.session.joined(request.roomId);
    // A client may send only the flag it means ({producing: true}); with neither given, the transport may do both.
    const neitherGiven = request.producing === undefined && request.consuming === undefined;
    const producing = neitherGiven || request.producing === true;
    const consuming = neitherGiven || request.consuming === true;
    if (!producing && !consuming) throw new UserError('invalid_request', 'a transport must be producing, consuming or both');
    const release = reserve(peer, 'transports', room.policy.limits);
    try {
      const transport = await peer.router.createWebRtcTransport<TransportAppData>({
        webRtcServer: peer.mediaWorker.webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: 1_000_000,
        appData: { producing, consuming },
      });
      if (!peer.addTransport(transport)) throw new UserError('not_joined', 'left the room while the transport was being made');
      if (consuming) keepDownlinkFloor(transport);
      return {
        id: transport.id,
        iceParameters: transport.iceParameters,
        iceCandidates: transport.iceCandidates,
        dtlsParameters: transport.dtlsParameters,
        ...iceServersFor(ctx, peer),
      };
    } finally {
      release();
    }
  },

  async connectWebRtcTransport(ctx, { transportId, dtlsParameters }) {
    const { peer } = ctx.session.joined();
    const transport = ownTransport(peer, transportId);
    if (transport.appData.connectRequested) throw new UserError('invalid_request', 'transport is already connected');
    transport.appData.connectRequested = true;
    await media('connect', () => transport.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }));
    return {};
  },

  async produce(ctx, { transportId, kind, rtpParameters, appData }) {
    const { peer, room } = ctx.session.joined();
    const transport = ownTransport(peer, transportId);
    if (!transport.appData.producing) throw new UserError('invalid_request', 'transport was not created for producing');
    const release = reserve(peer, 'producers', room.policy.limits);
    try {
      const mediaCodecs = rtpParameters.codecs.filter((c) => !/\/(rtx|red|ulpfec|flexfec)$/i.test(c.mimeType));
      if (!mediaCodecs.every((c) => c.mimeType.toLowerCase().startsWith(`${kind}/`))) throw new UserError('invalid_payload', `rtpParameters codecs do not match kind ${kind}`);
      const producer = await media('produce', () => transport.produce({ kind, rtpParameters: rtpParameters as types.RtpParameters, appData: { ...appData } }));
      // Seating the producer tells the others (newProducer), before this reply.
      if (!peer.addProducer(producer)) throw new UserError('media_rejected', 'produce failed: the transport closed meanwhile');
      return { producerId: producer.id };
    } finally {
      release();
    }
  },

  async consume(ctx, { producerId, rtpCapabilities, transportId }) {
    const { peer, room } = ctx.session.joined();
    const { limits } = room.policy;
    if (limits.consumers === 0) throw new UserError('limit_reached', 'cannot consume in this room (a connection check only sends)');
    const found = room.findProducer(producerId);
    if (!found) throw new UserError('not_found', 'unknown producerId');
    if (found.owner === peer) throw new UserError('invalid_request', 'cannot consume your own producer');
    // Consumes of one producer run in order (RequestScheduler), so this sees an earlier one's consumer.
    if ([...peer.consumers.values()].some((c) => c.producerId === producerId)) throw new UserError('invalid_request', 'already consuming this producer: one consumer per producer');
    // Without a transportId: the newest consuming transport (for a client that makes one per consumer,
    // the one it just created).
    const transport = transportId ? ownTransport(peer, transportId) : [...peer.transports.values()].findLast((t) => t.appData.consuming);
    if (!transport || !transport.appData.consuming) throw new UserError('invalid_request', 'no consuming transport: create one first');
    const release = reserve(peer, 'consumers', limits);
    let releasePipe: (() => void) | undefined;
    try {
      const caps = rtpCapabilities as types.RtpCapabilities;
      // A producer on another of the room's routers is piped to ours while we consume it.
      releasePipe = await media('consume', () => room.pipes.lease(found.producer, found.owner.router, peer.router));
      if (!(await media('consume', async () => peer.router.canConsume({ producerId, rtpCapabilities: caps })))) {
        throw new UserError('media_rejected', 'cannot consume this producer with the given rtpCapabilities');
      }
      const consumer = await media('consume', () => transport.consume({ producerId, rtpCapabilities: caps, paused: true, appData: { userId: found.owner.userId } }));
      consumer.observer.once('close', releasePipe);
      releasePipe = undefined;
      if (!peer.addConsumer(consumer)) throw new UserError('media_rejected', 'consume failed: the producer closed meanwhile');
      return {
        id: consumer.id,
        producerId,
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters,
        appData: found.producer.appData,
        userId: found.owner.userId,
      };
    } finally {
      releasePipe?.();
      release();
    }
  },

  async resumeConsumer(ctx, { consumerId }) {
    const { peer } = ctx.session.joined();
    const consumer = ownConsumer(peer, consumerId);
    // No explicit requestKeyFrame(): on resume the worker itself asks the producer for a key frame at
    // once (simple consumers directly, simulcast/SVC ones through their layer switch; or, if the
    // transport is not connected yet, as soon as it is), so the viewer does not wait for the next
    // periodic key frame. test/server/rooms.test.ts checks that it does.
    await media('resumeConsumer', () => consumer.resume());
    return {};
  },

  async pauseConsumer(ctx, { consumerId }) {
    const { peer } = ctx.session.joined();
    const consumer = ownConsumer(peer, consumerId);
    if (!consumer.paused) await media('pauseConsumer', () => consumer.pause());
    return {};
  },

  async setConsumerPreferredLayers(ctx, { consumerId, spatialLayer, temporalLayer }) {
    const { peer } = ctx.session.joined();
    const consumer = ownConsumer(peer, consumerId);
    if (consumer.kind !== 'video' || (consumer.type !== 'simulcast' && consumer.type !== 'svc')) {
      throw new UserError('invalid_request', 'this consumer has no layers to choose from (its producer sends one stream)');
    }
    const layers = layersOf(consumer);
    if (spatialLayer >= layers.spatial) throw new UserError('invalid_request', `spatialLayer must be below ${layers.spatial}`);
    if (temporalLayer !== undefined && temporalLayer >= layers.temporal) throw new UserError('invalid_request', `temporalLayer must be below ${layers.temporal}`);
    await media('setConsumerPreferredLayers', () => consumer.setPreferredLayers({ spatialLayer, temporalLayer }));
    return {};
  },

  async setConsumerPriority(ctx, { consumerId, priority }) {
    const { peer } = ctx.session.joined();
    const consumer = ownConsumer(peer, consumerId);
    await media('setConsumerPriority', () => consumer.setPriority(priority));
    return {};
  },

  async requestConsumerKeyFrame(ctx, { consumerId }) {
    const { peer } = ctx.session.joined();
    const consumer = ownConsumer(peer, consumerId);
    if (consumer.kind !== 'video') throw new UserError('invalid_request', 'only a video consumer has key frames');
    await media('requestConsumerKeyFrame', () => consumer.requestKeyFrame());
    return {};
  },

  async restartIce(ctx, { transportId }) {
    const { peer } = ctx.session.joined();
    const transport = ownTransport(peer, transportId);
    const iceParameters = await media('restartIce', () => transport.restartIce());
    return { iceParameters, ...iceServersFor(ctx, peer) };
  },

  async producerClosed(ctx, { producerId }) {
    const { peer } = ctx.session.joined();
    // The others hear producerClosed from the producer's close (Peer → Room → RoomBroadcaster).
    ownProducer(peer, producerId).close();
    return {};
  },

  async pauseProducer(ctx, { producerId }) {
    const { peer } = ctx.session.joined();
    const producer = ownProducer(peer, producerId);
    // The others hear producerPaused when mediasoup reports the pause.
    if (!producer.paused) await media('pauseProducer', () => producer.pause());
    return {};
  },

  async resumeProducer(ctx, { producerId }) {
    const { peer } = ctx.session.joined();
    const producer = ownProducer(peer, producerId);
    if (producer.paused) await media('resumeProducer', () => producer.resume());
    return {};
  },

  async getProducers(ctx, { roomId }) {
    const { peer, room } = ctx.session.joined(roomId);
    const producers = [];
    for (const other of room.peers.values()) {
      if (other === peer) continue;
      for (const producer of other.producers.values()) {
        producers.push({ producerId: producer.id, userId: other.userId, kind: producer.kind, appData: producer.appData });
        // The listing has no paused flag; mute state travels as the event that reports it anyway, to the caller alone.
        if (producer.paused) ctx.socket.emit('producerPaused', { producerId: producer.id, userId: other.userId });
      }
    }
    return { producers };
  },
};
