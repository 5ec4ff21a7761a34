import type { ChatMessage, Role } from '../signaling/protocol.ts';
import { CHAT_HISTORY_LENGTH, type CallAccess, type RoomInfo, type RoomStateStore } from './RoomStateStore.ts';

interface CallState {
  locked: boolean;
  members: Map<string, Role>;
  chat: ChatMessage[];
}

/** The embedded store: minted rooms and their calls' state live as long as this process. */
export class MemoryRoomStateStore implements RoomStateStore {
  readonly kind = 'memory';
  readonly #registered = new Map<string, RoomInfo>();
  readonly #calls = new Map<string, CallState>();

  async registerRoom(roomId: string, info: RoomInfo = {}): Promise<void> {
    this.#registered.set(roomId, { ...info });
  }

  async roomInfo(roomId: string): Promise<RoomInfo | undefined> {
    const info = this.#registered.get(roomId);
    return info && { ...info };
  }

  #call(roomId: string): CallState {
    let call = this.#calls.get(roomId);
    if (!call) this.#calls.set(roomId, (call = { locked: false, members: new Map(), chat: [] }));
    return call;
  }

  async callAccess(roomId: string): Promise<CallAccess> {
    const call = this.#calls.get(roomId);
    return { locked: call?.locked ?? false, members: new Map(call?.members) };
  }

  async setLocked(roomId: string, locked: boolean): Promise<void> {
    this.#call(roomId).locked = locked;
  }

  async setMember(roomId: string, userId: string, role: Role): Promise<void> {
    this.#call(roomId).members.set(userId, role);
  }

  async appendChat(roomId: string, message: ChatMessage): Promise<void> {
    const { chat } = this.#call(roomId);
    chat.push({ ...message });
    if (chat.length > CHAT_HISTORY_LENGTH) chat.splice(0, chat.length - CHAT_HISTORY_LENGTH);
  }

  async chatHistory(roomId: string): Promise<ChatMessage[]> {
    return (this.#calls.get(roomId)?.chat ?? []).map((m) => ({ ...m }));
  }

  async forgetCall(roomId: string): Promise<void> {
    this.#calls.delete(roomId);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#registered.clear();
    this.#calls.clear();
  }
}
