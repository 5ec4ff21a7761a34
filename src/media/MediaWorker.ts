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

/**
 * One mediasoup worker process plus its WebRtcServer. Emits `died` when the process goes away on
 * its own (not after close()); the pool replaces it.
 */
export class MediaWorker extends EventEmitter<{ died: [Error] }> {
  readonly index: number;
  readonly port: number;
  readonly worker: types.Worker;
  readonly webRtcServer: types.WebRtcServer;
  readonly #routers = new Set<types.Router>();
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
      mediaWorker.emit('died', error);
    });
    log.info({ pid: worker.pid, port: options.port }, 'mediasoup worker started');
    return mediaWorker;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Number of live routers (rooms) on this worker: the pool's load measure. */
  get load(): number {
    return this.#routers.size;
  }

  async createRouter(): Promise<types.Router> {
    const router = await this.worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    this.#routers.add(router);
    router.observer.once('close', () => this.#routers.delete(router));
    return router;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.worker.close();
  }
}
