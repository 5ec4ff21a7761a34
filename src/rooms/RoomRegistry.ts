import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.ts';
import type { WorkerPool } from '../media/WorkerPool.ts';
import type { RoomStateStore } from '../store/RoomStateStore.ts';
import { Room, type RoomCloseReason } from './Room.ts';

/** Connectivity checks running at once, server-wide: each holds a router for up to a minute. */
export const MAX_PROBES = 32;
/** …and per client address (its /64 for IPv6), so a few addresses cannot hold every slot. */
export const MAX_PROBES_PER_OWNER = 2;

/**
 * All live rooms of this process. Get-or-create is serialized per room id, so concurrent first joins
 * share one router.
 */
export class RoomRegistry extends EventEmitter<{ roomClosed: [Room, RoomCloseReason] }> {
  readonly #rooms = new Map<string, Room>();
  readonly #creating = new Map<string, Promise<Room>>();
  readonly #pool: WorkerPool;
  readonly #store: RoomStateStore;
  readonly #emptyGraceMs: number;
  readonly #log: Logger;
  /** Rooms whose stored membership may be wrong (a store write failed); repaired on a timer. */
  readonly #dirty = new Set<string>();
  #repairTimer: NodeJS.Timeout | undefined;
  #probes = 0;
  readonly #probesByOwner = new Map<string, number>();

  constructor(pool: WorkerPool, store: RoomStateStore, emptyGraceMs: number, log: Logger) {
    super();
    this.#pool = pool;
    this.#store = store;
    this.#emptyGraceMs = emptyGraceMs;
    this.#log = log;
  }

  get size(): number {
    return this.#rooms.size;
  }

  get rooms(): IterableIterator<Room> {
    return this.#rooms.values();
  }

  get(roomId: string): Room | undefined {
    return this.#rooms.get(roomId);
  }

  getOrCreate(roomId: string): Promise<Room> {
    const existing = this.#rooms.get(roomId);
    if (existing && !existing.closed) return Promise.resolve(existing);
    let pending = this.#creating.get(roomId);
    if (!pending) {
      pending = this.#create(roomId).finally(() => this.#creating.delete(roomId));
      this.#creating.set(roomId, pending);
    }
    return pending;
  }

  get probes(): number {
    return this.#probes;
  }

  /**
   * A private probe room for the connectivity check: a fresh unguessable id, never in the room store,
   * and at most MAX_PROBES at once across the server (each holds a router).
   */
  async createProbeRoom(owner: string): Promise<Room | 'busy' | 'yours-busy'> {
    if (this.#probes >= MAX_PROBES) return 'busy';
    const owned = this.#probesByOwner.get(owner) ?? 0;
    if (owned >= MAX_PROBES_PER_OWNER) return 'yours-busy';
    this.#probes++;
    this.#probesByOwner.set(owner, owned + 1);
    const release = () => {
      this.#probes--;
      const left = (this.#probesByOwner.get(owner) ?? 1) - 1;
      if (left > 0) this.#probesByOwner.set(owner, left);
      else this.#probesByOwner.delete(owner);
    };
    try {
      return await this.#open(`probe-${crypto.randomBytes(12).toString('base64url')}`, true, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /** A router on the least-loaded worker and a Room around it, registered until it closes. */
  async #open(roomId: string, probe: boolean, onClose: (room: Room) => void): Promise<Room> {
    const mediaWorker = this.#pool.leastLoaded();
    const room = new Room(roomId, await mediaWorker.createRouter(), mediaWorker, this.#emptyGraceMs, this.#log.child({ room: roomId }), probe);
    this.#rooms.set(roomId, room);
    room.once('close', (reason) => {
      if (this.#rooms.get(roomId) === room) this.#rooms.delete(roomId);
      onClose(room);
      this.emit('roomClosed', room, reason);
    });
    return room;
  }

  async #create(roomId: string): Promise<Room> {
    const room = await this.#open(roomId, false, (closed) => {
      this.#store.clearRoom(roomId).catch((error) => {
        closed.log.warn({ err: error }, 'could not clear room state');
        this.markDirty(roomId);
      });
    });
    // Rooms live in one process; whatever the store remembers for a new room is stale.
    await this.#store.clearRoom(roomId).catch((error) => room.log.warn({ err: error }, 'could not clear stale room state'));
    room.log.info({ worker: room.mediaWorker.index }, 'room created');
    return room;
  }

  /** A store write for this room failed: rewrite its whole membership once the store answers. */
  markDirty(roomId: string): void {
    this.#dirty.add(roomId);
    this.#repairTimer ??= setInterval(() => void this.#repair(), 1000).unref();
  }

  async #repair(): Promise<void> {
    for (const roomId of [...this.#dirty]) {
      const room = this.#rooms.get(roomId);
      const members = room ? [...room.peers.values()].map((p) => ({ userId: p.userId, userName: p.userName })) : [];
      try {
        await (room ? this.#store.replaceMembers(roomId, members) : this.#store.clearRoom(roomId));
        this.#dirty.delete(roomId);
        this.#log.info({ room: roomId, members: members.length }, 'room state repaired');
      } catch {
        return; // still unavailable; next tick
      }
    }
    if (this.#dirty.size === 0) {
      clearInterval(this.#repairTimer);
      this.#repairTimer = undefined;
    }
  }

  closeAll(reason: RoomCloseReason): void {
    clearInterval(this.#repairTimer);
    for (const room of [...this.#rooms.values()]) room.close(reason);
  }
}
