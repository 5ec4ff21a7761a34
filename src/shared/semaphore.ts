/**
 * At most `max` holders at once; others queue (at most `maxQueue`, each at most `maxWaitMs`) and are
 * refused (undefined) beyond that, so a burst waits briefly or is turned away instead of piling up.
 */
export class Semaphore {
  readonly #max: number;
  readonly #maxQueue: number;
  readonly #maxWaitMs: number;
  readonly #queue: { grant: (release: () => void) => void; timer: NodeJS.Timeout }[] = [];
  #active = 0;
  /** Most holders seen at once (for tests and metrics). */
  peak = 0;

  constructor(options: { max: number; maxQueue: number; maxWaitMs: number }) {
    this.#max = options.max;
    this.#maxQueue = options.maxQueue;
    this.#maxWaitMs = options.maxWaitMs;
  }

  get active(): number {
    return this.#active;
  }

  /** A release function (call it once done), or undefined when the queue is full or the wait ran out. */
  acquire(): Promise<(() => void) | undefined> {
    if (this.#active < this.#max) return Promise.resolve(this.#grant());
    if (this.#queue.length >= this.#maxQueue) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const entry = {
        grant: resolve,
        timer: setTimeout(() => {
          this.#queue.splice(this.#queue.indexOf(entry), 1);
          resolve(undefined);
        }, this.#maxWaitMs),
      };
      this.#queue.push(entry);
    });
  }

  #grant(): () => void {
    this.#active++;
    this.peak = Math.max(this.peak, this.#active);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#active--;
      const next = this.#queue.shift();
      if (next) {
        clearTimeout(next.timer);
        next.grant(this.#grant());
      }
    };
  }
}
