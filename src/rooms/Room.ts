import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from '../log.ts';
import type { MediaWorker } from '../media/MediaWorker.ts';
import { PEER_LIMITS, PROBE_LIMITS, type Peer, type PeerLimits } from './Peer.ts';

export type RoomCloseReason = 'empty' | 'worker-died' | 'shutdown';

/**
 * A call: one mediasoup router on one worker, and its peers keyed by userId. An empty room closes
 * after a grace period, so a quick reload does not tear the router down. A probe room (the
 * connectivity check's private room of one) closes as soon as its peer is gone.
 */
export class Room extends EventEmitter<{ close: [RoomCloseReason] }> {
  readonly id: string;
  readonly router: types.Router;
  readonly mediaWorker: MediaWorker;
  readonly log: Logger;
  readonly peers = new Map<string, Peer>();
  readonly probe: boolean;
  readonly #emptyGraceMs: number;
  #emptyTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(id: string, router: types.Router, mediaWorker: MediaWorker, emptyGraceMs: number, log: Logger, probe = false) {
    super();
    this.id = id;
    this.probe = probe;
    this.router = router;
    this.mediaWorker = mediaWorker;
    this.#emptyGraceMs = emptyGraceMs;
    this.log = log;
    // A router closes under us when its worker dies, or is closed (mediasoup closes workers on SIGTERM).
    router.observer.once('close', () => this.close(mediaWorker.worker.died ? 'worker-died' : 'shutdown'));
    this.#armEmptyTimer();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** What each peer here may hold. */
  get limits(): PeerLimits {
    return this.probe ? PROBE_LIMITS : PEER_LIMITS;
  }

  addPeer(peer: Peer): void {
    if (this.#closed) throw new Error('room is closed');
    this.peers.set(peer.userId, peer);
    clearTimeout(this.#emptyTimer);
    this.#emptyTimer = undefined;
  }

  /** Removes and closes the peer if it is still the one registered under its userId. */
  removePeer(peer: Peer): void {
    if (this.peers.get(peer.userId) === peer) this.peers.delete(peer.userId);
    peer.close();
    if (this.peers.size === 0 && this.probe) this.close('empty');
    else if (this.peers.size === 0) this.#armEmptyTimer();
  }

  findProducer(producerId: string): { producer: types.Producer; owner: Peer } | undefined {
    for (const peer of this.peers.values()) {
      const producer = peer.producers.get(producerId);
      if (producer) return { producer, owner: peer };
    }
    return undefined;
  }

  #armEmptyTimer(): void {
    if (this.#closed || this.#emptyTimer) return;
    this.#emptyTimer = setTimeout(() => {
      this.#emptyTimer = undefined;
      if (this.peers.size === 0) this.close('empty');
    }, this.#emptyGraceMs);
    this.#emptyTimer.unref();
  }

  /** Closes peers and the router. Idempotent. */
  close(reason: RoomCloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#emptyTimer);
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    this.router.close();
    this.log.info({ reason }, 'room closed');
    this.emit('close', reason);
  }
}
