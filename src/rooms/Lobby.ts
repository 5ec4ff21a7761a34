import { EventEmitter } from 'node:events';
import type { ParticipantInfo } from '../signaling/protocol.ts';

/** Most people waiting at once in one room's lobby. */
export const MAX_WAITING = 50;

interface Waiting extends ParticipantInfo {
  socketId: string;
}

/**
 * Who waits to be let into a locked room, in arrival order. A person waits with one socket; waiting
 * again (a reconnect) replaces it. Emits `changed` with the list, and `admitted` / `denied` with the
 * socket to tell.
 */
export class Lobby extends EventEmitter<{ changed: [ParticipantInfo[]]; admitted: [string]; denied: [string] }> {
  readonly #waiting = new Map<string, Waiting>();

  get waiting(): ParticipantInfo[] {
    return [...this.#waiting.values()].map(({ userId, userName }) => ({ userId, userName }));
  }

  get size(): number {
    return this.#waiting.size;
  }

  /** False when the lobby is full. */
  enter(userId: string, userName: string, socketId: string): boolean {
    if (!this.#waiting.has(userId) && this.#waiting.size >= MAX_WAITING) return false;
    this.#waiting.delete(userId);
    this.#waiting.set(userId, { userId, userName, socketId });
    this.emit('changed', this.waiting);
    return true;
  }

  /** The socket went away or joined: it no longer waits (unless a newer socket waits for that user). */
  leave(userId: string, socketId: string): void {
    if (this.#waiting.get(userId)?.socketId !== socketId) return;
    this.#waiting.delete(userId);
    this.emit('changed', this.waiting);
  }

  /** False when nobody of that userId waits. */
  admit(userId: string): boolean {
    return this.#settle(userId, 'admitted');
  }

  deny(userId: string): boolean {
    return this.#settle(userId, 'denied');
  }

  /** Everyone in: the room was unlocked, or it ended (a new call has no lock). */
  admitAll(): void {
    for (const userId of [...this.#waiting.keys()]) this.#settle(userId, 'admitted');
  }

  #settle(userId: string, outcome: 'admitted' | 'denied'): boolean {
    const waiting = this.#waiting.get(userId);
    if (!waiting) return false;
    this.#waiting.delete(userId);
    this.emit(outcome, waiting.socketId);
    this.emit('changed', this.waiting);
    return true;
  }
}
