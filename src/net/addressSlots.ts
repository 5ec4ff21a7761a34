import { addressKeys } from './clientAddress.ts';

/**
 * Things one client address holds at once (sockets, seats, connection checks), counted at every key
 * of the address (an IPv6 /64, /56 and /48: see addressKeys), each with its share of `max`. In this
 * process only: what is held lives here too.
 */
export class AddressSlots {
  readonly #held = new Map<string, number>();
  readonly #max: number;

  /** `max` per address (0: no cap); an IPv6 /56 may hold 2×, a /48 4× that. */
  constructor(max: number) {
    this.#max = max;
  }

  /** Takes a slot: a release function (idempotent), or undefined when the address holds its share already. */
  acquire(address: string): (() => void) | undefined {
    if (this.#max === 0) return () => {};
    const keys = addressKeys(address);
    if (keys.some(({ key, scale }) => (this.#held.get(key) ?? 0) >= this.#max * scale)) return undefined;
    for (const { key } of keys) this.#held.set(key, (this.#held.get(key) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      for (const { key } of keys) {
        const left = (this.#held.get(key) ?? 1) - 1;
        if (left > 0) this.#held.set(key, left);
        else this.#held.delete(key);
      }
    };
  }

  /** Slots held by the address's own key (its /64 for IPv6). */
  heldBy(address: string): number {
    return this.#held.get(addressKeys(address)[0]!.key) ?? 0;
  }
}
