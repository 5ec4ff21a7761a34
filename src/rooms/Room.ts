import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from '../log.ts';
import type { ChatMessage, ParticipantInfo, Role } from '../signaling/protocol.ts';
import { Lobby } from './Lobby.ts';
import type { MediaWorker } from '../media/MediaWorker.ts';
import type { Peer, Placement } from './Peer.ts';
import { ProducerPipes } from './ProducerPipes.ts';
import type { RoomPolicy } from './RoomPolicy.ts';
import type { SpeakerDetector } from './SpeakerDetector.ts';

/** Video codecs a room may send in, best first. */
const VIDEO_CODECS = ['video/VP8', 'video/H264'] as const;
const PREFERRED_VIDEO_CODEC: string = VIDEO_CODECS[0];

export type RoomCloseReason = 'empty' | 'expired' | 'worker-died' | 'shutdown';
/** 'replaced': the same user took its seat over from a new connection (a reconnect), so it never left. */
export type PeerLeftReason = 'left' | 'replaced';

/**
 * What happens in a room, for whoever tells the participants (signaling/RoomBroadcaster.ts). Nothing
 * is emitted once the room is closed except `closed` itself: peers do not "leave" a room that ends.
 */
export interface RoomEvents {
  peerJoined: [Peer];
  peerLeft: [Peer, PeerLeftReason];
  /** The worker under this peer's router died while the room lives on elsewhere: it must join again. */
  peerLost: [Peer];
  producerAdded: [Peer, types.Producer];
  producerClosed: [Peer, types.Producer];
  producerPaused: [Peer, types.Producer];
  producerResumed: [Peer, types.Producer];
  /** The dominant speaker changed (null: nobody speaks). */
  activeSpeaker: [string | null];
  /** For the consuming peer alone: the layers its consumer now gets, and how well it is sent. */
  consumerLayersChanged: [Peer, types.Consumer, types.ConsumerLayers | undefined];
  consumerScore: [Peer, types.Consumer, types.ConsumerScore];
  // What participants do for each other to see (signaling/RoomBroadcaster.ts tells them).
  chatMessage: [ChatMessage];
  handRaised: [Peer];
  reaction: [Peer, string];
  roleChanged: [Peer];
  locked: [boolean];
  /** To hosts: who waits in the lobby; to a waiting socket: let in, or not. */
  lobbyChanged: [ParticipantInfo[]];
  admitted: [string];
  denied: [string];
  /** To one participant: a host asks them to unmute. */
  unmuteRequested: [Peer];
  /** The codec everyone should send video in changed. */
  videoCodec: [string];
  /** To a producer's owner: a host paused or closed it (the others hear of it as usual). */
  ownerTold: [Peer, 'producerPaused' | 'producerClosed', types.Producer];
  closed: [RoomCloseReason];
}

export interface RoomOptions {
  id: string;
  /** The room's first router (more are made as participants land on other workers). */
  router: types.Router;
  mediaWorker: MediaWorker;
  /** Picks the worker for a new participant among the ones the room uses; without it, the first. */
  pickWorker?: (inUse: MediaWorker[]) => MediaWorker;
  policy: RoomPolicy;
  /** Who speaks (calls have one; a connectivity probe does not). */
  speakers?: SpeakerDetector;
  /** How long an empty room keeps its router (unless its policy closes it when empty). */
  emptyGraceMs: number;
  log: Logger;
}

/**
 * A router on each worker the room uses (each participant's media on one of them, producers piped
 * between them on demand), and its peers keyed by userId, living by its RoomPolicy. An empty room
 * closes after a grace period, so a quick reload does not tear the router down. Closing cascades:
 * peers close (their transports, producers and consumers with them), then the routers. A router
 * whose worker dies takes only its own peers with it while the room has others.
 */
export class Room extends EventEmitter<RoomEvents> {
  readonly id: string;
  readonly policy: RoomPolicy;
  readonly log: Logger;
  readonly peers = new Map<string, Peer>();
  readonly speakers: SpeakerDetector | undefined;
  /** Who waits to be let in while the room is locked. */
  readonly lobby = new Lobby();
  /** The codec to send video in: one every participant can decode. */
  videoCodec = PREFERRED_VIDEO_CODEC;
  /** New joiners wait in the lobby (mirrors the store's flag, which survives restarts). */
  locked = false;
  /** Producers piped between this room's routers while consumed there. */
  readonly pipes = new ProducerPipes();
  readonly #routers = new Map<MediaWorker, types.Router>();
  readonly #routersOpening = new Map<MediaWorker, Promise<types.Router>>();
  readonly #pickWorker: ((inUse: MediaWorker[]) => MediaWorker) | undefined;
  #home: Placement;
  readonly #emptyGraceMs: number;
  #emptyTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: RoomOptions) {
    super();
    this.id = options.id;
    this.#home = { router: options.router, mediaWorker: options.mediaWorker };
    this.#pickWorker = options.pickWorker;
    this.policy = options.policy;
    this.#emptyGraceMs = options.emptyGraceMs;
    this.log = options.log;
    this.speakers = options.speakers;
    this.speakers?.on('speaker', (userId) => this.#emit('activeSpeaker', userId));
    this.lobby.on('changed', (waiting) => this.#emit('lobbyChanged', waiting));
    this.lobby.on('admitted', (socketId) => this.#emit('admitted', socketId));
    this.lobby.on('denied', (socketId) => this.#emit('denied', socketId));
    this.#adopt(this.#home);
    if (this.policy.lifetimeMs !== undefined) {
      this.#expiryTimer = setTimeout(() => this.close('expired'), this.policy.lifetimeMs).unref();
    }
    this.#armEmptyTimer();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The room's first live router (where a connection check's one peer and test tools go). */
  get router(): types.Router {
    return this.#home.router;
  }

  get mediaWorker(): MediaWorker {
    return this.#home.mediaWorker;
  }

  /** The workers this room has a router on. */
  get workers(): MediaWorker[] {
    return [...this.#routers.keys()];
  }

  /** Where a new participant's media goes: a router on the worker picked for it (made if need be). */
  async place(): Promise<Placement> {
    const mediaWorker = this.#pickWorker?.(this.workers) ?? this.#home.mediaWorker;
    return { mediaWorker, router: await this.#routerOn(mediaWorker) };
  }

  #routerOn(mediaWorker: MediaWorker): Promise<types.Router> {
    const existing = this.#routers.get(mediaWorker);
    if (existing) return Promise.resolve(existing);
    let opening = this.#routersOpening.get(mediaWorker);
    if (!opening) {
      opening = (async () => {
        const router = await mediaWorker.createRouter();
        try {
          await this.speakers?.addRouter(router);
        } catch (error) {
          router.close();
          throw error;
        }
        if (this.#closed) {
          router.close();
          throw new Error('room is closed');
        }
        this.#adopt({ router, mediaWorker });
        return router;
      })().finally(() => this.#routersOpening.delete(mediaWorker));
      this.#routersOpening.set(mediaWorker, opening);
    }
    return opening;
  }

  #adopt({ router, mediaWorker }: Placement): void {
    this.#routers.set(mediaWorker, router);
    // A router closes under us when its worker dies, or is closed (mediasoup closes workers on SIGTERM).
    router.observer.once('close', () => this.#routerClosed(router, mediaWorker));
  }

  #routerClosed(router: types.Router, mediaWorker: MediaWorker): void {
    if (this.#closed) return;
    this.#routers.delete(mediaWorker);
    const died = mediaWorker.worker.died;
    const [next] = this.#routers;
    if (!died || !next) return this.close(died ? 'worker-died' : 'shutdown');
    if (router === this.#home.router) this.#home = { mediaWorker: next[0], router: next[1] };
    this.log.warn({ worker: mediaWorker.index }, 'a worker of this room died: its participants join again');
    for (const peer of [...this.peers.values()]) {
      if (peer.router !== router) continue;
      this.#emit('peerLost', peer);
      this.removePeer(peer);
    }
  }

  /** Seats `peer`; its userId must be free (take a seat over with removePeer(old, 'replaced') first). */
  addPeer(peer: Peer): void {
    if (this.#closed) throw new Error('room is closed');
    if (this.peers.has(peer.userId)) throw new Error(`userId ${peer.userId} already has a seat`);
    peer.place(this.#home);
    this.peers.set(peer.userId, peer);
    clearTimeout(this.#emptyTimer);
    this.#emptyTimer = undefined;
    for (const event of ['producerAdded', 'producerClosed', 'producerPaused', 'producerResumed'] as const) {
      peer.on(event, (producer) => this.#emit(event, peer, producer));
    }
    // Screen-share sound is not a voice: only microphones count for who speaks.
    peer.on('producerAdded', (producer) => producer.appData.type !== 'screen' && void this.speakers?.add(producer, peer.userId, peer.router));
    peer.on('consumerLayersChanged', (consumer, layers) => this.#emit('consumerLayersChanged', peer, consumer, layers));
    peer.on('consumerScore', (consumer, score) => this.#emit('consumerScore', peer, consumer, score));
    this.#settleVideoCodec();
    this.#emit('peerJoined', peer);
  }

  /**
   * Closes `peer` and frees its seat if it still holds it. Its producers close first (producerClosed
   * each), then peerLeft. Idempotent; a no-op but for closing the peer once the room is closed.
   */
  removePeer(peer: Peer, reason: PeerLeftReason = 'left'): void {
    const seated = this.peers.get(peer.userId) === peer;
    if (seated) this.peers.delete(peer.userId);
    peer.close();
    peer.removeAllListeners();
    if (!seated || this.#closed) return;
    this.#emit('peerLeft', peer, reason);
    this.#settleVideoCodec();
    if (this.peers.size > 0) return;
    if (this.policy.closeWhenEmpty) this.close('empty');
    else this.#armEmptyTimer();
  }

  findProducer(producerId: string): { producer: types.Producer; owner: Peer } | undefined {
    for (const peer of this.peers.values()) {
      const producer = peer.producers.get(producerId);
      if (producer) return { producer, owner: peer };
    }
    return undefined;
  }

  // ——— What participants do for each other ———

  chat(message: ChatMessage): void {
    this.#emit('chatMessage', message);
  }

  setHandRaised(peer: Peer, raised: boolean, now = Date.now()): void {
    if ((peer.handRaisedAt !== null) === raised) return;
    peer.handRaisedAt = raised ? now : null;
    this.#emit('handRaised', peer);
  }

  react(peer: Peer, emoji: string): void {
    this.#emit('reaction', peer, emoji);
  }

  setRole(peer: Peer, role: Role): void {
    if (peer.role === role) return;
    peer.role = role;
    this.#emit('roleChanged', peer);
  }

  setLocked(locked: boolean): void {
    if (this.locked === locked) return;
    this.locked = locked;
    this.#emit('locked', locked);
    if (!locked) this.lobby.admitAll();
  }

  askToUnmute(peer: Peer): void {
    this.#emit('unmuteRequested', peer);
  }

  tellOwner(peer: Peer, what: 'producerPaused' | 'producerClosed', producer: types.Producer): void {
    this.#emit('ownerTold', peer, what, producer);
  }

  /** VP8 while everyone decodes it (every browser does, simulcast works best); else a codec all of them decode. */
  #settleVideoCodec(): void {
    const lists = [...this.peers.values()].map((p) => p.videoCodecs).filter((list): list is string[] => list !== undefined);
    const decodable = (mimeType: string) => lists.every((list) => list.includes(mimeType.toLowerCase()));
    const codec = VIDEO_CODECS.find(decodable) ?? PREFERRED_VIDEO_CODEC;
    if (codec === this.videoCodec) return;
    this.videoCodec = codec;
    this.log.info({ codec }, 'room video codec');
    this.#emit('videoCodec', codec);
  }

  #emit<E extends Exclude<keyof RoomEvents, 'closed'>>(event: E, ...args: RoomEvents[E]): void {
    if (!this.#closed) (this.emit as (event: E, ...rest: RoomEvents[E]) => boolean)(event, ...args);
  }

  #armEmptyTimer(): void {
    if (this.#closed || this.#emptyTimer) return;
    this.#emptyTimer = setTimeout(() => {
      this.#emptyTimer = undefined;
      if (this.peers.size === 0) this.close('empty');
    }, this.#emptyGraceMs).unref();
  }

  /** Closes peers and the router, then emits `closed`. Idempotent. */
  close(reason: RoomCloseReason): void {
    if (this.#closed) return;
    // Whoever waited in an ended call may come in: the next call in this room starts unlocked.
    if (reason === 'empty') this.lobby.admitAll();
    this.#closed = true;
    clearTimeout(this.#emptyTimer);
    clearTimeout(this.#expiryTimer);
    for (const peer of this.peers.values()) {
      peer.close();
      peer.removeAllListeners();
    }
    this.peers.clear();
    this.lobby.removeAllListeners();
    this.speakers?.close();
    for (const router of this.#routers.values()) router.close();
    this.#routers.clear();
    this.log.info({ reason }, 'room closed');
    this.emit('closed', reason);
  }
}
