import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from '../log.ts';
import { settlesWithin } from '../shared/time.ts';
import { TIMEOUTS } from '../timeouts.ts';
import { MEDIA_CODECS } from './codecs.ts';
import { MediaWorker } from './MediaWorker.ts';

function killQuietly(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export interface WorkerPoolOptions {
  count: number;
  workerBin: string;
  listenIp: string;
  announcedAddress: string | undefined;
  firstPort: number;
  logger: Logger;
}

/**
 * Worker i listens on firstPort + i. A worker that dies is replaced on the same port (its routers
 * close with it, which closes their rooms); `workerDied`/`workerReplaced` are there for observers.
 */
export class WorkerPool extends EventEmitter<{ workerDied: [MediaWorker]; workerReplaced: [MediaWorker] }> {
  readonly #workers = new Map<number, MediaWorker>();
  readonly #options: WorkerPoolOptions;
  readonly #log: Logger;
  #closed = false;
  #rtpCapabilities: types.RtpCapabilities | undefined;

  constructor(options: WorkerPoolOptions) {
    super();
    this.#options = options;
    this.#log = options.logger.child({ component: 'workers' });
  }

  async start(): Promise<void> {
    const indexes = Array.from({ length: this.#options.count }, (_, i) => i);
    await Promise.all(indexes.map((i) => this.#spawn(i)));
    // Every router is made from the same codec list, so one throwaway router tells what all offer.
    const sample = await this.leastLoaded().worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    this.#rtpCapabilities = sample.rtpCapabilities;
    sample.close();
  }

  /** The RTP capabilities every room's router has (known once start() resolved). */
  get routerRtpCapabilities(): types.RtpCapabilities {
    if (!this.#rtpCapabilities) throw new Error('worker pool not started');
    return this.#rtpCapabilities;
  }

  get workers(): MediaWorker[] {
    return [...this.#workers.values()];
  }

  /** True when every slot has a live worker. */
  get healthy(): boolean {
    return !this.#closed && this.#workers.size === this.#options.count && this.workers.every((w) => !w.closed);
  }

  leastLoaded(): MediaWorker {
    let best: MediaWorker | undefined;
    for (const worker of this.#workers.values()) {
      if (worker.closed) continue;
      if (!best || worker.load < best.load) best = worker;
    }
    if (!best) throw new Error('no media worker available');
    return best;
  }

  /**
   * The worker for one more participant of a room that has routers on `inUse`: the least-loaded
   * worker, unless one of the room's own is within `slack` load units of it (a pipe between routers
   * costs too, so a room spreads only when that saves more than it costs).
   */
  pickFor(inUse: Iterable<MediaWorker>, slack: number): MediaWorker {
    const least = this.leastLoaded();
    let best: MediaWorker | undefined;
    for (const worker of inUse) {
      if (worker.closed || worker.load > least.load + slack) continue;
      if (!best || worker.load < best.load) best = worker;
    }
    return best ?? least;
  }

  async #spawn(index: number): Promise<MediaWorker> {
    const worker = await MediaWorker.start({
      index,
      workerBin: this.#options.workerBin,
      listenIp: this.#options.listenIp,
      announcedAddress: this.#options.announcedAddress,
      port: this.#options.firstPort + index,
      logger: this.#options.logger,
    });
    if (this.#closed) {
      worker.close();
      throw new Error('worker pool closed');
    }
    this.#workers.set(index, worker);
    worker.once('died', () => this.#onDied(worker));
    return worker;
  }

  #onDied(worker: MediaWorker): void {
    if (this.#workers.get(worker.index) === worker) this.#workers.delete(worker.index);
    this.emit('workerDied', worker);
    if (!this.#closed) void this.#replace(worker.index, 1);
  }

  async #replace(index: number, attempt: number): Promise<void> {
    try {
      const worker = await this.#spawn(index);
      this.#log.warn({ worker: index, attempt }, 'replaced dead mediasoup worker');
      this.emit('workerReplaced', worker);
    } catch (error) {
      if (this.#closed) return;
      const delay = Math.min(TIMEOUTS.workerRespawnMaxBackoffMs, 250 * 2 ** attempt);
      this.#log.error({ err: error, worker: index, attempt, retryInMs: delay }, 'could not replace mediasoup worker');
      setTimeout(() => void this.#replace(index, attempt + 1), delay).unref();
    }
  }

  /** Closes every worker and waits for their processes to exit. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const exits = this.workers.map(async (w) => {
      const exited = new Promise<void>((resolve) => {
        if (w.worker.subprocessClosed) return resolve();
        w.worker.once('subprocessclose', () => resolve());
      });
      w.close();
      // A worker that ignores its close (wedged) must not keep the process from exiting.
      if (!(await settlesWithin(exited, TIMEOUTS.workerExitMs))) {
        this.#log.warn({ worker: w.index, pid: w.worker.pid }, 'mediasoup worker did not exit: killing it');
        killQuietly(w.worker.pid);
        await settlesWithin(exited, TIMEOUTS.workerKillMs);
      }
    });
    this.#workers.clear();
    await Promise.all(exits);
  }
}
