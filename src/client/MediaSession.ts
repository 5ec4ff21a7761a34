import type { Device, types } from 'mediasoup-client';
import type { ProducerInfo, ReplyOf, RequestName, RequestOf } from '../signaling/protocol.ts';
import { selectedLocalCandidate, type LocalCandidate } from './connectivityDiagnosis.ts';
import { mark } from './marks.ts';
import { keepResolution, produceOptions, type Source } from './sending.ts';
import { collectStats, type SessionStats } from './sessionStats.ts';
import type { SignalingClient } from './SignalingClient.ts';
import { openTransport, type Direction, type MediaPath } from './transport.ts';
import { spatialLayersOf, wishFor, type ConsumerWish, type TileNeeds } from './videoDemand.ts';

export type { Source } from './sending.ts';
export type { SessionStats } from './sessionStats.ts';
export type { Direction, MediaPath } from './transport.ts';

/** The TURN relay across the joins of a call: whether to start relay-only, and what happened. */
export interface RelayHooks {
  /** An earlier transport of this call needed the relay: start relay-only. */
  only(): boolean;
  /** A direct attempt failed; the transport now retries through the relay. */
  fallback(direction: Direction): void;
  /** A transport connected, directly or through the relay. */
  path(direction: Direction, path: MediaPath): void;
}

/** One remote producer this session consumes. `source` says which tile or sound it belongs to. */
export interface RemoteMedia {
  producerId: string;
  userId: string;
  consumer: types.Consumer;
  source: 'audio' | 'camera' | 'screen';
  /** For audio: whether it is a microphone or a screen share's sound. */
  audioOf?: 'mic' | 'screen';
  paused: boolean;
  /** Video: spatial layers its producer sends (1: a plain stream). */
  layers: number;
  /** Video: what the server was last asked to do with this consumer (it starts paused, top layer). */
  applied: ConsumerWish;
  /** Video: the spatial layer the server reports sending (null: none), and how well it sends (0–10). */
  currentLayer: number | null;
  score: number | null;
}

/** What a media session tells the view. */
export interface MediaSessionListener {
  remoteAdded(remote: RemoteMedia): void;
  remoteRemoved(remote: RemoteMedia): void;
  remotePaused(remote: RemoteMedia): void;
  transportState(direction: Direction, state: types.ConnectionState): void;
}

/** A request made for a session that has closed meanwhile: its result no longer matters. */
export class SessionClosed extends Error {
  constructor() {
    super('media session closed');
    this.name = 'SessionClosed';
  }
}

/**
 * The media of one join: the send and receive transports, their ICE-restart loops, our producers
 * and a consumer per remote producer. Made when a join starts and closed when that join ends
 * (leave, drop, room closed); after close() every pending step stops where it is.
 */
export class MediaSession {
  readonly roomId: string;
  readonly #signaling: SignalingClient;
  readonly #listener: MediaSessionListener;
  readonly #device: Promise<Device>;
  readonly #transports: Record<Direction, Promise<types.Transport>>;
  readonly #producers = new Map<Source, types.Producer>();
  readonly #producing = new Set<Source>();
  readonly #remotes = new Map<string, RemoteMedia>();
  readonly #consuming = new Set<string>();
  /** Producers that ended while we were still consuming them. */
  readonly #endedWhileConsuming = new Set<string>();
  /** Remote producers reported paused (the report may come before we consume them). */
  readonly #pausedProducers = new Set<string>();
  /** The codec the room sends video in (the server's videoCodec). */
  #videoCodec = 'video/VP8';
  /** What the page's video tiles need (undefined until the page first measured them). */
  #needs: TileNeeds | undefined;
  #closed = false;

  constructor(signaling: SignalingClient, roomId: string, device: Promise<Device>, listener: MediaSessionListener, relay?: RelayHooks) {
    this.#signaling = signaling;
    this.roomId = roomId;
    this.#device = device;
    this.#listener = listener;
    // Both transports are asked for at once: neither waits for the other, nor for our own media.
    const open = (direction: Direction) =>
      openTransport({
        direction,
        roomId,
        device: this.#live(device),
        request: (event, payload) => this.#request(event, payload),
        isClosed: () => this.#closed || !signaling.connected,
        onState: (state) => {
          if (!this.#closed) listener.transportState(direction, state);
        },
        relayOnly: () => relay?.only() ?? false,
        onRelayFallback: () => {
          if (!this.#closed) relay?.fallback(direction);
        },
        onPath: (path) => {
          if (!this.#closed) relay?.path(direction, path);
        },
      });
    this.#transports = { recv: open('recv'), send: open('send') };
    // A failure surfaces through start(); nobody else may see an unhandled rejection.
    for (const transport of Object.values(this.#transports)) transport.catch(() => {});
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Consumes everything already in the room. Resolves when each consumer is resumed (or failed on its own). */
  async consumeExisting(): Promise<void> {
    const { producers } = await this.#request('getProducers', { roomId: this.roomId });
    await this.#transports.recv;
    await Promise.all(producers.map((info) => this.consume(info)));
  }

  /** Resolves once the send transport exists (producing can start). */
  async sendReady(): Promise<void> {
    await this.#transports.send;
  }

  async #request<E extends RequestName>(event: E, payload: RequestOf<E>): Promise<ReplyOf<E>> {
    return this.#live(this.#signaling.request(event, payload));
  }

  /** The result of `step`, unless this session closed while it ran. */
  async #live<T>(step: Promise<T>): Promise<T> {
    const result = await step;
    if (this.#closed) throw new SessionClosed();
    return result;
  }

  // ——— Our producers ———

  /** One producer per source: skipped while one exists or is being made (controls can race a join). */
  async produce(source: Source, track: MediaStreamTrack, paused: boolean): Promise<void> {
    const existing = this.#producers.get(source);
    if (this.#closed || this.#producing.has(source) || (existing && !existing.closed)) return;
    this.#producing.add(source);
    let producer: types.Producer;
    try {
      const transport = await this.#live(this.#transports.send);
      const device = await this.#device;
      try {
        producer = await transport.produce(produceOptions(source, track, device, true, this.#videoCodec));
      } catch (error) {
        // A browser or codec that will not simulcast still sends its camera, as one stream.
        if (source !== 'camera' || this.#closed) throw error;
        producer = await transport.produce(produceOptions(source, track, device, false, this.#videoCodec));
      }
      if (source === 'screen') void keepResolution(producer);
    } finally {
      this.#producing.delete(source);
    }
    if (this.#closed) return void producer.close();
    this.#producers.set(source, producer);
    if (paused) await this.setPaused(source, true);
  }

  /**
   * The room's video codec changed (someone who cannot decode ours joined, or left): our camera and
   * screen are sent again in it (same tracks, same paused state).
   */
  async setVideoCodec(mimeType: string): Promise<void> {
    this.#videoCodec = mimeType;
    for (const source of ['camera', 'screen'] as const) {
      const producer = this.#producers.get(source);
      if (!producer || producer.closed || !producer.track) continue;
      if (producer.rtpParameters.codecs[0]?.mimeType.toLowerCase() === mimeType.toLowerCase()) continue;
      const { track, paused } = producer;
      await this.closeProducer(source);
      await this.produce(source, track, paused).catch((error) => console.warn('could not send again in', mimeType, error));
    }
  }

  /** Which of our sources a producer id is, if it is ours. */
  sourceOf(producerId: string): Source | undefined {
    for (const [source, producer] of this.#producers) if (producer.id === producerId) return source;
    return undefined;
  }

  hasProducer(source: Source): boolean {
    const producer = this.#producers.get(source);
    return !!producer && !producer.closed;
  }

  async setPaused(source: Source, paused: boolean): Promise<void> {
    const producer = this.#producers.get(source);
    if (!producer || producer.closed) return;
    if (paused) producer.pause();
    else producer.resume();
    await this.#request(paused ? 'pauseProducer' : 'resumeProducer', { producerId: producer.id }).catch(() => {});
  }

  async replaceTrack(source: Source, track: MediaStreamTrack): Promise<void> {
    const producer = this.#producers.get(source);
    if (producer && !producer.closed) await producer.replaceTrack({ track });
  }

  async closeProducer(source: Source): Promise<void> {
    const producer = this.#producers.get(source);
    this.#producers.delete(source);
    if (!producer || producer.closed) return;
    producer.close();
    await this.#request('producerClosed', { producerId: producer.id }).catch(() => {});
  }

  // ——— Remote producers ———

  /** Consumes a remote producer once; failures are its own (the rest of the call goes on). */
  async consume(info: ProducerInfo): Promise<void> {
    if (this.#closed || this.#remotes.has(info.producerId) || this.#consuming.has(info.producerId)) return;
    this.#consuming.add(info.producerId);
    try {
      const transport = await this.#live(this.#transports.recv);
      const device = await this.#device;
      const reply = await this.#request('consume', { producerId: info.producerId, rtpCapabilities: device.recvRtpCapabilities, transportId: transport.id });
      const consumer = await this.#live(
        transport.consume({ id: reply.id, producerId: reply.producerId, kind: reply.kind, rtpParameters: reply.rtpParameters as types.RtpParameters, appData: reply.appData }),
      );
      if (this.#endedWhileConsuming.has(info.producerId)) return void consumer.close();
      mark('first-consume');
      const isScreen = reply.appData.type === 'screen';
      const layers = reply.kind === 'video' ? spatialLayersOf(consumer.rtpParameters.encodings?.[0]?.scalabilityMode) : 1;
      const remote: RemoteMedia = {
        producerId: info.producerId,
        userId: reply.userId,
        consumer,
        source: reply.kind === 'audio' ? 'audio' : isScreen ? 'screen' : 'camera',
        audioOf: reply.kind === 'audio' ? (isScreen ? 'screen' : 'mic') : undefined,
        paused: this.#pausedProducers.has(info.producerId),
        layers,
        applied: { paused: reply.kind === 'video', spatialLayer: layers - 1, priority: 1 },
        currentLayer: null,
        score: null,
      };
      // The server sends nothing until resumed: ask at once, unless its tile is not on screen.
      // (Resuming, and the transport connecting later, each make the server ask for a key frame.)
      const resumed = remote.source === 'audio' ? this.#request('resumeConsumer', { consumerId: consumer.id }) : this.#steer(remote);
      this.#remotes.set(info.producerId, remote);
      this.#listener.remoteAdded(remote);
      await resumed;
      mark('consumer-resumed');
    } catch (error) {
      if (!this.#closed) console.warn('consume failed', info.producerId, error);
    } finally {
      this.#consuming.delete(info.producerId);
      this.#endedWhileConsuming.delete(info.producerId);
    }
  }

  // ——— What each video tile needs ———

  /** The page measured its tiles: pause what is not shown, pick layers by size, rank by importance. */
  setTileNeeds(needs: TileNeeds): void {
    this.#needs = needs;
    for (const remote of this.#remotes.values()) if (remote.source !== 'audio') void this.#steer(remote).catch(() => {});
  }

  /**
   * Brings one video consumer in line with its tile's need, asking the server only for what changed.
   * Resolves when the server did it (requests of one consumer run in the order sent).
   */
  async #steer(remote: RemoteMedia): Promise<void> {
    const key = `${remote.userId}:${remote.source}`;
    const known = this.#needs !== undefined && this.#needs.has(key);
    const wish = wishFor(this.#needs?.get(key), known, remote.layers);
    const { applied } = remote;
    const consumerId = remote.consumer.id;
    const sent: Promise<unknown>[] = [];
    // Layers first, so a resumed consumer starts on the layer its tile needs.
    if (wish.spatialLayer !== undefined && wish.spatialLayer !== applied.spatialLayer) {
      applied.spatialLayer = wish.spatialLayer;
      sent.push(this.#request('setConsumerPreferredLayers', { consumerId, spatialLayer: wish.spatialLayer }));
    }
    if (wish.priority !== applied.priority) {
      applied.priority = wish.priority;
      sent.push(this.#request('setConsumerPriority', { consumerId, priority: wish.priority }));
    }
    if (wish.paused !== applied.paused) {
      applied.paused = wish.paused;
      sent.push(this.#request(wish.paused ? 'pauseConsumer' : 'resumeConsumer', { consumerId }));
    }
    await Promise.all(sent);
  }

  /** The remote media a consumer of ours plays. */
  remoteOf(consumerId: string): RemoteMedia | undefined {
    for (const remote of this.#remotes.values()) if (remote.consumer.id === consumerId) return remote;
    return undefined;
  }

  /** What the browser says about our camera's (else microphone's) sending: losses reported back, round trip, encoder limits. */
  async uplink(): Promise<{ fractionLost: number; roundTripTime: number | undefined; limitedBy: string | undefined } | undefined> {
    const producer = this.#producers.get('camera') ?? this.#producers.get('mic');
    if (!producer || producer.closed || producer.paused) return undefined;
    let fractionLost = 0;
    let roundTripTime: number | undefined;
    let limitedBy: string | undefined;
    (await producer.getStats()).forEach((report: { type: string; fractionLost?: number; roundTripTime?: number; qualityLimitationReason?: string }) => {
      if (report.type === 'remote-inbound-rtp') {
        fractionLost = Math.max(fractionLost, report.fractionLost ?? 0);
        roundTripTime = Math.max(roundTripTime ?? 0, report.roundTripTime ?? 0);
      }
      if (report.type === 'outbound-rtp' && report.qualityLimitationReason && report.qualityLimitationReason !== 'none') limitedBy = report.qualityLimitationReason;
    });
    return { fractionLost, roundTripTime, limitedBy };
  }

  /** The server reports the layers one of our consumers now gets, or how well it is sent. */
  noteConsumer(consumerId: string, report: { spatialLayer?: number | null; score?: number }): void {
    const remote = this.remoteOf(consumerId);
    if (!remote) return;
    if (report.spatialLayer !== undefined) remote.currentLayer = report.spatialLayer;
    if (report.score !== undefined) remote.score = report.score;
  }

  /** A remote producer was paused or resumed (mute, camera off). */
  setRemotePaused(producerId: string, paused: boolean): void {
    if (paused) this.#pausedProducers.add(producerId);
    else this.#pausedProducers.delete(producerId);
    const remote = this.#remotes.get(producerId);
    if (!remote || remote.paused === paused) return;
    remote.paused = paused;
    this.#listener.remotePaused(remote);
  }

  /** A remote producer ended: drop its consumer. */
  removeRemote(producerId: string): void {
    this.#pausedProducers.delete(producerId);
    if (this.#consuming.has(producerId)) this.#endedWhileConsuming.add(producerId);
    const remote = this.#remotes.get(producerId);
    if (!remote) return;
    this.#remotes.delete(producerId);
    remote.consumer.close();
    this.#listener.remoteRemoved(remote);
  }

  /** Drops every consumer of a participant who left. */
  removeUser(userId: string): void {
    for (const remote of [...this.#remotes.values()]) if (remote.userId === userId) this.removeRemote(remote.producerId);
  }

  /** Closes both transports (and with them every producer and consumer). Idempotent. */
  close(): void {
    if (this.#closed) return;
    for (const producerId of [...this.#remotes.keys()]) this.removeRemote(producerId);
    this.#closed = true;
    this.#producers.clear();
    for (const transport of Object.values(this.#transports)) void transport.then((t) => t.close(), () => {});
  }

  /** Diagnostics and tests: how each transport reaches the server now (our end of the pair in use). */
  async paths(): Promise<Partial<Record<Direction, LocalCandidate>>> {
    const paths: Partial<Record<Direction, LocalCandidate>> = {};
    for (const [direction, transport] of Object.entries(this.#transports) as [Direction, Promise<types.Transport>][]) {
      const local = await transport.then(async (t) => selectedLocalCandidate(await t.getStats()), () => undefined);
      if (local) paths[direction] = local;
    }
    return paths;
  }

  /** Numbers for diagnostics and tests: what each consumer has received, what each producer sent. */
  stats(): Promise<SessionStats> {
    return collectStats([...this.#remotes.values()], this.#producers);
  }
}

