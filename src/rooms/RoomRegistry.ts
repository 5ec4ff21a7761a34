import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from '../log.ts';
import type { MediaWorker } from '../media/MediaWorker.ts';
import type { WorkerPool } from '../media/WorkerPool.ts';
import { AddressSlots } from '../net/addressSlots.ts';
import { UserError } from '../signaling/errors.ts';
import { Room } from './Room.ts';
import { CALL_POLICY, probePolicy, type RoomPolicy } from './RoomPolicy.ts';
import { SpeakerDetector } from './SpeakerDetector.ts';

/** Connectivity checks running at once, server-wide: each holds a router for up to its lifetime. */
export const MAX_PROBES = 32;
/**
 * …and per client address, so a few addresses cannot hold every slot: an IPv4 address or IPv6 /64
 * holds 2, a /56 4 and a /48 8 (AddressSlots), so one subscriber's prefix cannot hold them all either.
 */
export const MAX_PROBES_PER_OWNER = 2;

/**
 * How much less loaded (in MediaWorker load units, about one consumer each) another worker must be
 * before a room puts its next participant there rather than on a worker it already uses.
 */
export const DEFAULT_SPREAD_SLACK = 40;

export interface RoomRegistryOptions {
  /** How long an empty call keeps its router (EMPTY_ROOM_GRACE_MS). */
  emptyGraceMs: number;
  /** How long a connectivity probe's room lives at most. */
  probeLifetimeMs: number;
  /** DEFAULT_SPREAD_SLACK unless given (0: every participant on the least-loaded worker). */
  spreadSlack?: number;
  log: Logger;
}

/**
 * All live rooms of this process. Get-or-create is serialized per room id, so concurrent first joins
 * share one router. `roomOpened` fires before anyone can enter the room, so listeners see all of it.
 */
export class RoomRegistry extends EventEmitter<{ roomOpened: [Room] }> {
  readonly #rooms = new Map<string, Room>();
  readonly #creating = new Map<string, Promise<Room>>();
  readonly #pool: WorkerPool;
  readonly #options: RoomRegistryOptions;
  readonly #probePolicy: RoomPolicy;
  readonly #probeSlots = new AddressSlots(MAX_PROBES_PER_OWNER);
  #probes = 0;

  constructor(pool: WorkerPool, options: RoomRegistryOptions) {
    super();
    this.#pool = pool;
    this.#options = options;
    this.#probePolicy = probePolicy(options.probeLifetimeMs);
  }

  get size(): number {
    return this.#rooms.size;
  }

  get rooms(): IterableIterator<Room> {
    return this.#rooms.values();
  }

  /** Connectivity probes running now. */
  get probes(): number {
    return this.#probes;
  }

  /**
   * What every room's router can send and receive (they all share one codec list), known before any
   * room exists: a page can hand it to the browser before anyone joins.
   */
  get routerRtpCapabilities(): types.RtpCapabilities {
    return this.#pool.routerRtpCapabilities;
  }

  get(roomId: string): Room | undefined {
    return this.#rooms.get(roomId);
  }

  /** The live call with this id, or a new one. */
  getOrCreate(roomId: string): Promise<Room> {
    const existing = this.#rooms.get(roomId);
    if (existing && !existing.closed) return Promise.resolve(existing);
    let pending = this.#creating.get(roomId);
    if (!pending) {
      pending = this.#open(roomId, CALL_POLICY).finally(() => this.#creating.delete(roomId));
      this.#creating.set(roomId, pending);
    }
    return pending;
  }

  /**
   * A private room for the connectivity check, under a fresh unguessable id. At most MAX_PROBES at
   * once across the server and MAX_PROBES_PER_OWNER per client address (`owner`, its prefixes
   * counted too): else UserError limit_reached.
   */
  async createProbeRoom(owner: string): Promise<Room> {
    if (this.#probes >= MAX_PROBES) throw new UserError('limit_reached', 'too many connection checks are running, try again in a minute');
    const releaseSlot = this.#probeSlots.acquire(owner);
    if (!releaseSlot) throw new UserError('limit_reached', 'connection checks from your address are already running, try again in a minute');
    this.#probes++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#probes--;
      releaseSlot();
    };
    try {
      const room = await this.#open(`probe-${crypto.randomBytes(12).toString('base64url')}`, this.#probePolicy);
      room.once('closed', release);
      return room;
    } catch (error) {
      release();
      throw error;
    }
  }

  /** A first router on the least-loaded worker and a Room around it, registered until it closes. */
  async #open(roomId: string, policy: RoomPolicy): Promise<Room> {
    const mediaWorker = this.#pool.leastLoaded();
    const router = await mediaWorker.createRouter();
    const log = this.#options.log.child({ roomId });
    let speakers: SpeakerDetector | undefined;
    try {
      speakers = policy.kind === 'call' ? await SpeakerDetector.create(router) : undefined;
    } catch (error) {
      router.close();
      throw error;
    }
    const slack = this.#options.spreadSlack ?? DEFAULT_SPREAD_SLACK;
    // A call grows across workers; a connection check stays on its one router.
    const pickWorker = policy.kind === 'call' ? (inUse: MediaWorker[]) => this.#pool.pickFor(inUse, slack) : undefined;
    const room = new Room({ id: roomId, router, mediaWorker, pickWorker, policy, speakers, emptyGraceMs: this.#options.emptyGraceMs, log });
    this.#rooms.set(roomId, room);
    room.once('closed', () => {
      if (this.#rooms.get(roomId) === room) this.#rooms.delete(roomId);
    });
    this.emit('roomOpened', room);
    log.info({ worker: mediaWorker.index, kind: policy.kind }, 'room opened');
    return room;
  }

  closeAll(reason: 'shutdown'): void {
    for (const room of [...this.#rooms.values()]) room.close(reason);
  }
}
