import type { Member, RoomInfo, RoomStateStore } from './RoomStateStore.ts';

export class MemoryRoomStateStore implements RoomStateStore {
  readonly kind = 'memory';
  readonly #rooms = new Map<string, Map<string, string>>();
  readonly #registered = new Map<string, RoomInfo>();

  async registerRoom(roomId: string, info: RoomInfo = {}): Promise<void> {
    this.#registered.set(roomId, { ...info });
  }

  async roomInfo(roomId: string): Promise<RoomInfo | undefined> {
    const info = this.#registered.get(roomId);
    return info && { ...info };
  }

  async replaceMembers(roomId: string, members: Member[]): Promise<void> {
    this.#rooms.delete(roomId);
    for (const member of members) await this.addMember(roomId, member);
  }

  async addMember(roomId: string, member: Member): Promise<void> {
    let room = this.#rooms.get(roomId);
    if (!room) this.#rooms.set(roomId, (room = new Map()));
    room.set(member.userId, member.userName);
  }

  async removeMember(roomId: string, userId: string): Promise<void> {
    const room = this.#rooms.get(roomId);
    room?.delete(userId);
    if (room?.size === 0) this.#rooms.delete(roomId);
  }

  async members(roomId: string): Promise<Member[]> {
    return [...(this.#rooms.get(roomId) ?? [])].map(([userId, userName]) => ({ userId, userName }));
  }

  async clearRoom(roomId: string): Promise<void> {
    this.#rooms.delete(roomId);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#rooms.clear();
    this.#registered.clear();
  }
}
