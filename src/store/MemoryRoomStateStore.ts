import type { RoomInfo, RoomStateStore } from './RoomStateStore.ts';

/** The embedded store: minted rooms live as long as this process. */
export class MemoryRoomStateStore implements RoomStateStore {
  readonly kind = 'memory';
  readonly #registered = new Map<string, RoomInfo>();

  async registerRoom(roomId: string, info: RoomInfo = {}): Promise<void> {
    this.#registered.set(roomId, { ...info });
  }

  async roomInfo(roomId: string): Promise<RoomInfo | undefined> {
    const info = this.#registered.get(roomId);
    return info && { ...info };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#registered.clear();
  }
}
