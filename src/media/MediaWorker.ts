import { EventEmitter } from 'node:events';
import { createWorker, type types } from 'mediasoup';
import type { Logger } from '../log.ts';
import { MEDIA_CODECS } from './codecs.ts';

export interface MediaWorkerOptions {
  index: number;
  workerBin: string;
  listenIp: string;
  announcedAddress: string | undefined;
  /** Single UDP+TCP port for all WebRTC media of this worker (its WebRtcServer). */
  port: number;
  logger: Logger;
}

/** How often a worker's CPU use is sampled for its load. */
const CPU_SAMPLE_MS = 2_000;
/** Load units one fully busy core counts as: about what a hundred consumers cost. */
const LOAD_PER_CORE = 100;

/**
 * One mediasoup worker process plus its WebRtcServer. Emits `died` when the process goes away on
 * its own (not after close()); the pool replaces it. Counts what runs on it (routers, transports,
 * consumers) and samples its CPU use: `load` is how the pool and rooms choose a worker.
 */
export class MediaWorker extends EventEmitter<{ died: [Error] }> {
  readonly index: number;
  readonly port: number;
  readonly worker: types.Worker;
  readonly webRtcServer: types.WebRtcServer;
  readonly #routers = new Set<types.Router>();
  #transports = 0;
  #consumers = 0;
  /** Share of one core the worker used over the last sample (0…n). */
  #cpu = 0;
  #cpuTimer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(index: number, port: number, worker: types.Worker, webRtcServer: types.WebRtcServer) {
    super();
    this.index = index;
    this.port = port;
    this.worker = worker;
    this.webRtcServer = webRtcServer;
  }

  static async start(options: MediaWorkerOptions): Promise<MediaWorker> {
    const log = options.logger.child({ worker: options.index });
    const worker = await createWorker({ workerBin: options.workerBin, logLevel: 'warn' });
    let webRtcServer: types.WebRtcServer;
    try {
      const announcedAddress = options.announcedAddress;
      webRtcServer = await worker.createWebRtcServer({
        listenInfos: (['udp', 'tcp'] as const).map((protocol) => ({
          protocol,
          ip: options.listenIp,
          announcedAddress,
          port: options.port,
        })),
      });
    } catch (error) {
      worker.close();
      throw new Error(`worker ${options.index}: cannot listen on ${options.listenIp}:${options.port} (UDP/TCP): ${(error as Error).message}`);
    }
    const mediaWorker = new MediaWorker(options.index, options.port, worker, webRtcServer);
    worker.on('died', (error) => {
      log.error({ err: error, pid: worker.pid }, 'mediasoup worker died');
      mediaWorker.#closed = true;
      clearInterval(mediaWorker.#cpuTimer);
      mediaWorker.emit('died', error);
    });
    mediaWorker.#sampleCpu();
    log.info({ pid: worker.pid, port: options.port }, 'mediasoup worker started');
    return mediaWorker;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Live routers on this worker (a room has one on each worker it uses). */
  get routers(): number {
    return this.#routers.size;
  }

  /**
   * How busy the worker is, in rough units of one consumer: its routers, transports and consumers,
   * plus its CPU use (a busy core counts LOAD_PER_CORE). Zero when nothing runs on it.
   */
  get load(): number {
    if (this.#routers.size === 0) return 0;
    return this.#routers.size + this.#transports + this.#consumers + Math.round(this.#cpu * LOAD_PER_CORE);
  }

  async createRouter(): Promise<types.Router> {
    const router = await this.worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    this.#routers.add(router);
    router.observer.once('close', () => this.#routers.delete(router));
    router.observer.on('newtransport', (transport) => {
      this.#transports++;
      transport.observer.once('close', () => this.#transports--);
      transport.observer.on('newconsumer', (consumer) => {
        this.#consumers++;
        consumer.observer.once('close', () => this.#consumers--);
      });
    });
    return router;
  }

  #sampleCpu(): void {
    let last: { at: number; cpuMs: number } | undefined;
    this.#cpuTimer = setInterval(() => {
      if (this.#closed) return;
      this.worker.getResourceUsage().then(
        (usage) => {
          const now = { at: performance.now(), cpuMs: usage.ru_utime + usage.ru_stime };
          if (last && now.at > last.at) this.#cpu = Math.max(0, (now.cpuMs - last.cpuMs) / (now.at - last.at));
          last = now;
        },
        () => {}, // closing: the next sample (if any) tries again
      );
    }, CPU_SAMPLE_MS).unref();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#cpuTimer);
    this.worker.close();
  }
}
