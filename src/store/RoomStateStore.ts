export interface RoomInfo {
  /** scrypt hash of the room password, when the creator set one. */
  passwordHash?: string;
}

export interface Member {
  userId: string;
  userName: string;
}

/**
 * Shared room state: who is in which room under which name. The in-process implementation is the
 * embedded default; the Redis one lets state survive this process and be seen by operators.
 */
export interface RoomStateStore {
  readonly kind: 'memory' | 'redis';
  /** Remembers a room id minted by the home page, so its invite link works. */
  registerRoom(roomId: string, info?: RoomInfo): Promise<void>;
  /** What was registered for a minted room, or undefined for an unknown one. */
  roomInfo(roomId: string): Promise<RoomInfo | undefined>;
  /** Makes the stored membership exactly `members` (used to repair state after an outage). */
  replaceMembers(roomId: string, members: Member[]): Promise<void>;
  addMember(roomId: string, member: Member): Promise<void>;
  removeMember(roomId: string, userId: string): Promise<void>;
  members(roomId: string): Promise<Member[]>;
  /** Forgets a whole room (it closed). */
  clearRoom(roomId: string): Promise<void>;
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
