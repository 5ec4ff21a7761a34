import type { RequestName } from './protocol.ts';

/**
 * What a request must wait for, among the earlier requests of its socket that are still running.
 * Requests that change what the socket is (joinRoom, joinProbe, leaveRoom, and the cleanup at
 * disconnect) are barriers: they wait for everything before them and everything after waits for them,
 * so a client may send joinRoom and then createWebRtcTransport without waiting and the second still
 * sees the first done. Requests naming the same transport, producer or consumer run in order (a
 * pause then resume of one producer must end resumed). Everything else runs side by side.
 */
export interface Job {
  readonly event: RequestName | 'disconnect';
  readonly barrier: boolean;
  /** Objects the request acts on ("producer:<id>", …): requests sharing one run in arrival order. */
  readonly keys: readonly string[];
  /** Kinds of earlier request that must have finished (consume without transportId: the transports being made). */
  readonly after: readonly RequestName[];
}

const BARRIERS = new Set<string>(['joinRoom', 'joinProbe', 'leaveRoom', 'disconnect']);

/** The Job of a request whose payload passed its schema. */
export function jobOf(event: RequestName | 'disconnect', payload: Record<string, unknown> = {}): Job {
  const id = (field: string, kind: string) => (typeof payload[field] === 'string' ? [`${kind}:${payload[field]}`] : []);
  const keys = [...id('transportId', 'transport'), ...id('producerId', 'producer'), ...id('consumerId', 'consumer')];
  // Consumes of many producers through one transport are what a join into a big room is made of: they
  // must not queue behind each other, so a consume is keyed by its producer, not by its transport.
  const ownKeys = event === 'consume' ? id('producerId', 'producer') : keys;
  const after: RequestName[] = event === 'consume' && payload.transportId === undefined ? ['createWebRtcTransport'] : [];
  return { event, barrier: BARRIERS.has(event), keys: ownKeys, after };
}

function mustWait(later: Job, earlier: Job): boolean {
  return later.barrier || earlier.barrier || later.keys.some((k) => earlier.keys.includes(k)) || (earlier.event !== 'disconnect' && later.after.includes(earlier.event));
}

/** Runs one socket's requests as concurrently as their Jobs allow, never out of order where they conflict. */
export class RequestScheduler {
  readonly #running = new Set<{ job: Job; done: Promise<void> }>();

  /** Requests accepted and not finished yet. */
  get size(): number {
    return this.#running.size;
  }

  /** Starts `task` once every earlier request it must wait for has finished (at once if none). */
  run(job: Job, task: () => Promise<void>): Promise<void> {
    const before = [...this.#running].filter((entry) => mustWait(job, entry.job)).map((entry) => entry.done);
    const started = before.length === 0 ? task() : Promise.all(before).then(task);
    const done = started.then(
      () => undefined,
      () => undefined,
    );
    const entry = { job, done };
    this.#running.add(entry);
    void done.finally(() => this.#running.delete(entry));
    return done;
  }

  /** Resolves once everything accepted so far has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.#running].map((entry) => entry.done));
  }
}
