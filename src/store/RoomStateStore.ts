export interface RoomInfo {
  /** scrypt hash of the room password, when the creator set one. */
  passwordHash?: string;
  /** Most participants at once, when the creator (the server API) set a cap below the server's. */
  maxParticipants?: number;
}

/**
 * What must outlive this process: the rooms the home page minted (so their invite links keep working)
 * and their password hashes. The in-process implementation is the embedded default; the Redis one
 * survives restarts.
 *
 * Who is in a live call is deliberately not stored: a room, its router and its peers live in one
 * process and die with it, so a stored copy of the membership had no reader but its own repair loop
 * and tests. The live list is RoomRegistry's (and /metrics'). Should several processes ever share
 * rooms, a membership record comes back together with the code that reads it.
 */
export interface RoomStateStore {
  readonly kind: 'memory' | 'redis';
  /** Remembers a room id minted by the home page, so its invite link works. */
  registerRoom(roomId: string, info?: RoomInfo): Promise<void>;
  /** What was registered for a minted room, or undefined for an unknown one. */
  roomInfo(roomId: string): Promise<RoomInfo | undefined>;
  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('room state store unavailable', { cause });
    this.name = 'StoreUnavailableError';
  }
}
