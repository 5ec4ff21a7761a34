/**
 * A token bucket: at most `size` actions at once, refilled evenly over `perMs`. For the small
 * per-participant limits (chat, reactions) where a shared limiter would be overkill.
 */
export class Budget {
  readonly #size: number;
  readonly #perMs: number;
  #tokens: number;
  #at: number;

  constructor(size: number, perMs: number, now = Date.now()) {
    this.#size = size;
    this.#perMs = perMs;
    this.#tokens = size;
    this.#at = now;
  }

  /** Spends one token; false (nothing spent) when none is left. */
  take(now = Date.now()): boolean {
    this.#tokens = Math.min(this.#size, this.#tokens + ((now - this.#at) * this.#size) / this.#perMs);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
