import type { Device, types } from 'mediasoup-client';
import type { ProducerInfo, ReplyOf, RequestName, RequestOf } from '../signaling/protocol.ts';
import { mark } from './marks.ts';
import { collectStats, type SessionStats } from './sessionStats.ts';
import type { SignalingClient } from './SignalingClient.ts';
import { openTransport, type Direction } from './transport.ts';

export type Source = 'mic' | 'camera' | 'screen';
export type { SessionStats } from './sessionStats.ts';
export type { Direction } from './transport.ts';

/** One remote producer this session consumes. `source` says which tile or sound it belongs to. */
export interface RemoteMedia {
  producerId: string;
  userId: string;
  consumer: types.Consumer;
  source: 'audio' | 'camera' | 'screen';
  /** For audio: whether it is a microphone or a screen share's sound. */
  audioOf?: 'mic' | 'screen';
  paused: boolean;
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
  #closed = false;

  constructor(signaling: SignalingClient, roomId: string, device: Promise<Device>, listener: MediaSessionListener) {
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
      producer = await transport.produce({
        track,
        stopTracks: false,
        appData: { type: source },
        ...(source === 'mic' ? { codecOptions: { opusDtx: true, opusFec: true } } : {}),
      });
    } finally {
      this.#producing.delete(source);
    }
    if (this.#closed) return void producer.close();
    this.#producers.set(source, producer);
    if (paused) await this.setPaused(source, true);
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
      // The server sends nothing until resumed: ask at once. (Resuming, and the transport connecting
      // later, each make the server ask the sender for a key frame.)
      const resumed = this.#request('resumeConsumer', { consumerId: consumer.id });
      const isScreen = reply.appData.type === 'screen';
      const remote: RemoteMedia = {
        producerId: info.producerId,
        userId: reply.userId,
        consumer,
        source: reply.kind === 'audio' ? 'audio' : isScreen ? 'screen' : 'camera',
        audioOf: reply.kind === 'audio' ? (isScreen ? 'screen' : 'mic') : undefined,
        paused: this.#pausedProducers.has(info.producerId),
      };
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

  /** Numbers for diagnostics and tests: what each consumer has received, what each producer sent. */
  stats(): Promise<SessionStats> {
    return collectStats([...this.#remotes.values()], this.#producers);
  }
}

