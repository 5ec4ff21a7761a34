import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Role } from '../auth/tokens.ts';
import { Budget } from '../shared/budget.ts';
import type { MediaWorker } from '../media/MediaWorker.ts';
import type { PeerLimits } from './RoomPolicy.ts';

export { PEER_LIMITS, type PeerLimits } from './RoomPolicy.ts';

export interface TransportAppData extends types.AppData {
  producing: boolean;
  consuming: boolean;
  /** connectWebRtcTransport may be called once per transport. */
  connectRequested?: boolean;
}

/** Where a participant's media lives: one of its room's routers, and that router's worker. */
export interface Placement {
  router: types.Router;
  mediaWorker: MediaWorker;
}

/** What happens to a peer's producers; its Room passes these on with the peer attached. */
export interface PeerEvents {
  producerAdded: [types.Producer];
  producerClosed: [types.Producer];
  producerPaused: [types.Producer];
  producerResumed: [types.Producer];
  consumerLayersChanged: [types.Consumer, types.ConsumerLayers | undefined];
  consumerScore: [types.Consumer, types.ConsumerScore];
}

/**
 * One participant of one room, bound to one socket. Owns its transports; closing a transport closes
 * its producers and consumers inside mediasoup, and the observers below keep the Maps in step.
 */
export class Peer extends EventEmitter<PeerEvents> {
  readonly userId: string;
  readonly userName: string;
  readonly socketId: string;
  /** A host may be made a guest and a guest a host while seated (Room.setRole). */
  role: Role;
  /** Video codecs this participant can decode (lower-case mime types), when it said. */
  videoCodecs: string[] | undefined;
  /** When this participant raised their hand (ms), or null. */
  handRaisedAt: number | null = null;
  /** What one participant may send to the room: a chatty or reacting client is slowed, not the room. */
  readonly budgets = { chat: new Budget(10, 10_000), reaction: new Budget(10, 10_000), hand: new Budget(10, 10_000) };
  /** Handed to the client at join; lets its next connection take this seat over. */
  readonly reclaimSecret = crypto.randomBytes(24).toString('base64url');
  readonly transports = new Map<string, types.WebRtcTransport<TransportAppData>>();
  readonly producers = new Map<string, types.Producer>();
  readonly consumers = new Map<string, types.Consumer>();
  readonly #reserved: PeerLimits = { transports: 0, producers: 0, consumers: 0 };
  #placement: Placement | undefined;
  #closed = false;

  constructor(userId: string, userName: string, socketId: string, role: Role = 'guest') {
    super();
    this.userId = userId;
    this.userName = userName;
    this.socketId = socketId;
    this.role = role;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Puts this peer's transports on `placement`'s router; only the first placement counts. */
  place(placement: Placement): void {
    this.#placement ??= placement;
  }

  /** The router this peer's transports (and so its producers and consumers) live on. */
  get router(): types.Router {
    if (!this.#placement) throw new Error('peer has no router yet');
    return this.#placement.router;
  }

  get mediaWorker(): MediaWorker {
    if (!this.#placement) throw new Error('peer has no router yet');
    return this.#placement.mediaWorker;
  }

  /**
   * Holds a place for one more object of `kind` while it is being made (a socket's requests may run
   * concurrently, so counting the Map alone would let a burst overshoot `limit`). Undefined when the
   * peer has or is making `limit` of them already; otherwise call the returned release when done.
   */
  reserve(kind: keyof PeerLimits, limit: number): (() => void) | undefined {
    if (this[kind].size + this.#reserved[kind] >= limit) return undefined;
    this.#reserved[kind]++;
    let held = true;
    return () => {
      if (held) this.#reserved[kind]--;
      held = false;
    };
  }

  /** False (and the transport closed) when this peer is already gone. */
  addTransport(transport: types.WebRtcTransport<TransportAppData>): boolean {
    if (!this.#admit(transport)) return false;
    this.transports.set(transport.id, transport);
    transport.observer.once('close', () => this.transports.delete(transport.id));
    return true;
  }

  /** False (and the producer closed) when this peer or the producer is already gone. */
  addProducer(producer: types.Producer): boolean {
    if (!this.#admit(producer)) return false;
    this.producers.set(producer.id, producer);
    producer.observer.on('pause', () => this.emit('producerPaused', producer));
    producer.observer.on('resume', () => this.emit('producerResumed', producer));
    producer.observer.once('close', () => {
      this.producers.delete(producer.id);
      this.emit('producerClosed', producer);
    });
    this.emit('producerAdded', producer);
    return true;
  }

  /** False (and the consumer closed) when this peer or the consumer is already gone. */
  addConsumer(consumer: types.Consumer): boolean {
    if (!this.#admit(consumer)) return false;
    this.consumers.set(consumer.id, consumer);
    consumer.observer.on('layerschange', (layers) => this.emit('consumerLayersChanged', consumer, layers));
    consumer.observer.on('score', (score) => this.emit('consumerScore', consumer, score));
    consumer.observer.once('close', () => this.consumers.delete(consumer.id));
    return true;
  }

  #admit(object: { closed: boolean; close(): void }): boolean {
    if (!this.#closed && !object.closed) return true;
    object.close();
    return false;
  }

  /** Closes everything this peer owns (its producers report producerClosed). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const transport of [...this.transports.values()]) transport.close();
    // Normally empty by now (transport close cascades); close leftovers defensively.
    for (const producer of [...this.producers.values()]) producer.close();
    for (const consumer of [...this.consumers.values()]) consumer.close();
  }
}
