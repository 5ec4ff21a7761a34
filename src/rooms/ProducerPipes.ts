import type { types } from 'mediasoup';

interface Pipe {
  /** Consumers (made or being made) on the target router that need this pipe. */
  users: number;
  ready: Promise<types.PipeToRouterResult>;
}

/**
 * A room's producers piped from the router they were made on to its other routers (one per worker
 * the room uses), each only while someone on that router consumes it: the first consumer there opens
 * the pipe (mediasoup's pipeToRouter, the producer keeps its id), the last one to close closes it.
 * A pipe also ends with its producer or either router (mediasoup closes the pair then).
 */
export class ProducerPipes {
  readonly #pipes = new Map<string, Pipe>();
  /** Pipes closing, by key: a new pipe of the same producer to the same router waits for it. */
  readonly #closing = new Map<string, Promise<void>>();

  /** Pipes open (or opening) now. */
  get size(): number {
    return this.#pipes.size;
  }

  /**
   * Makes `producer` (made on `source`) consumable on `target` and holds the pipe for one consumer:
   * call the returned release when that consumer closes (or was never made). Nothing to hold on
   * the producer's own router.
   */
  async lease(producer: types.Producer, source: types.Router, target: types.Router): Promise<() => void> {
    if (source === target) return () => {};
    const key = `${producer.id}>${target.id}`;
    await this.#closing.get(key);
    let pipe = this.#pipes.get(key);
    if (!pipe) {
      const opened: Pipe = { users: 0, ready: source.pipeToRouter({ producerId: producer.id, router: target }) };
      this.#pipes.set(key, opened);
      const forget = () => this.#pipes.get(key) === opened && this.#pipes.delete(key);
      opened.ready.then(({ pipeProducer }) => pipeProducer?.observer.once('close', forget), forget);
      pipe = opened;
    }
    const held = pipe;
    held.users++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--held.users > 0) return;
      if (this.#pipes.get(key) === held) this.#pipes.delete(key);
      // Closing the pipe's consumer closes its producer on the target router too.
      const closed = held.ready.then(({ pipeConsumer }) => pipeConsumer?.close(), () => {});
      this.#closing.set(key, closed);
      void closed.then(() => this.#closing.get(key) === closed && this.#closing.delete(key));
    };
    try {
      await held.ready;
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }
}
