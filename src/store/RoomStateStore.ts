import type { ChatMessage, Role } from '../signaling/protocol.ts';

export interface RoomInfo {
  /** scrypt hash of the room password, when the creator set one. */
  passwordHash?: string;
  /** SHA-256 (base64url) of the host credential handed to the room's creator. */
  hostKeyHash?: string;
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
  /**
   * A live call's shared state (survives a restart with Redis; forgotten with forgetCall when the call
   * ends): whether it is locked, who may pass the lock (and who was made a host), recent chat.
   */
  callAccess(roomId: string): Promise<CallAccess>;
  setLocked(roomId: string, locked: boolean): Promise<void>;
  /** Lets `userId` past the lock with `role` (a participant made host keeps it across reconnects). */
  setMember(roomId: string, userId: string, role: Role): Promise<void>;
  /** Appends a message, keeping the last CHAT_HISTORY_LENGTH. */
  appendChat(roomId: string, message: ChatMessage): Promise<void>;
  /** The kept messages, oldest first. */
  chatHistory(roomId: string): Promise<ChatMessage[]>;
  forgetCall(roomId: string): Promise<void>;
  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** How many chat messages a call keeps for late joiners. */
export const CHAT_HISTORY_LENGTH = 100;

export interface CallAccess {
  locked: boolean;
  /** userId → role, for everyone let past the lock (and everyone made a host). */
  members: Map<string, Role>;
}

export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('room state store unavailable', { cause });
    this.name = 'StoreUnavailableError';
  }
}
