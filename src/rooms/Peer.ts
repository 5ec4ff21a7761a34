import crypto from 'node:crypto';
import type { types } from 'mediasoup';
import type { Role } from '../auth/tokens.ts';

export interface TransportAppData extends types.AppData {
  producing: boolean;
  consuming: boolean;
  /** connectWebRtcTransport may be called once per transport. */
  connectRequested?: boolean;
}

export interface PeerLimits {
  transports: number;
  producers: number;
  consumers: number;
}

// Transports: generous enough for a client that makes one per consumer (as the seed's flow does).
export const PEER_LIMITS: PeerLimits = { transports: 64, producers: 8, consumers: 256 };
/** A connectivity probe sends one test track over one transport: nothing more, since it needs no token. */
export const PROBE_LIMITS: PeerLimits = { transports: 1, producers: 1, consumers: 0 };

/**
 * One participant of one room, bound to one socket. Owns its transports; closing a transport closes
 * its producers and consumers inside mediasoup, and the observers below keep the Maps in step.
 */
export class Peer {
  readonly userId: string;
  readonly userName: string;
  readonly socketId: string;
  readonly role: Role;
  /** Handed to the client at join; lets its next connection take this seat over. */
  readonly reclaimSecret = crypto.randomBytes(24).toString('base64url');
  readonly transports = new Map<string, types.WebRtcTransport<TransportAppData>>();
  readonly producers = new Map<string, types.Producer>();
  readonly consumers = new Map<string, types.Consumer>();
  #closed = false;

  constructor(userId: string, userName: string, socketId: string, role: Role = 'guest') {
    this.userId = userId;
    this.userName = userName;
    this.socketId = socketId;
    this.role = role;
  }

  get closed(): boolean {
    return this.#closed;
  }

  addTransport(transport: types.WebRtcTransport<TransportAppData>): void {
    if (this.#closed) {
      transport.close();
      return;
    }
    this.transports.set(transport.id, transport);
    transport.observer.once('close', () => this.transports.delete(transport.id));
  }

  addProducer(producer: types.Producer): void {
    if (this.#closed) {
      producer.close();
      return;
    }
    this.producers.set(producer.id, producer);
    producer.observer.once('close', () => this.producers.delete(producer.id));
  }

  addConsumer(consumer: types.Consumer): void {
    if (this.#closed) {
      consumer.close();
      return;
    }
    this.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => this.consumers.delete(consumer.id));
  }

  /** Closes everything this peer owns. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const transport of [...this.transports.values()]) transport.close();
    // Normally empty by now (transport close cascades); close leftovers defensively.
    for (const producer of [...this.producers.values()]) producer.close();
    for (const consumer of [...this.consumers.values()]) consumer.close();
  }
}
