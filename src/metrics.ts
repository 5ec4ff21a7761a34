import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkerPool } from './media/WorkerPool.ts';
import type { RoomRegistry } from './rooms/RoomRegistry.ts';

/** Prometheus metrics; gauges are read from the live objects at scrape time, never kept in step by hand. */
export class Metrics {
  readonly registry = new Registry();
  readonly signalingErrors: Counter<'event' | 'kind'>;

  constructor(rooms: RoomRegistry, pool: WorkerPool) {
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_process_' });
    const registers = [this.registry];
    this.signalingErrors = new Counter({
      name: 'parley_signaling_errors_total',
      help: 'Signaling requests answered with an error, by event and kind (user: bad request, internal: server fault)',
      labelNames: ['event', 'kind'],
      registers,
    });
    const count = (pick: (peer: { transports: Map<string, unknown>; producers: Map<string, unknown>; consumers: Map<string, unknown> }) => number) => {
      let total = 0;
      for (const room of rooms.rooms) for (const peer of room.peers.values()) total += pick(peer);
      return total;
    };
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers, collect() { this.set(read()); } });
    gauge('parley_rooms', 'Open rooms', () => rooms.size);
    gauge('parley_peers', 'Participants in rooms', () => count(() => 1));
    gauge('parley_transports', 'WebRTC transports', () => count((p) => p.transports.size));
    gauge('parley_producers', 'Producers', () => count((p) => p.producers.size));
    gauge('parley_consumers', 'Consumers', () => count((p) => p.consumers.size));

    gauge('parley_workers', 'Live mediasoup workers', () => pool.workers.filter((w) => !w.closed).length);
    gauge('parley_pipes', "Producers piped between a room's routers on different workers (while consumed there)", () => {
      let total = 0;
      for (const room of rooms.rooms) total += room.pipes.size;
      return total;
    });
    new Gauge({
      name: 'parley_worker_load',
      help: 'Load of each mediasoup worker as rooms place participants by it: routers + transports + consumers + 100 per busy core',
      labelNames: ['worker'],
      registers,
      collect() {
        for (const w of pool.workers) this.set({ worker: String(w.index) }, w.load);
      },
    });
    // Worker usage and bitrate need async calls; one refresh per scrape feeds all three gauges.
    let sample: Promise<Sample> | undefined;
    const refresh = () => {
      sample ??= sampleMedia(rooms, pool).finally(() => setTimeout(() => (sample = undefined), 250).unref());
      return sample;
    };
    new Gauge({
      name: 'parley_worker_cpu_seconds',
      help: 'CPU time used by each mediasoup worker',
      labelNames: ['worker', 'mode'],
      registers,
      async collect() {
        for (const w of (await refresh()).workers) {
          this.set({ worker: w.index, mode: 'user' }, w.userSeconds);
          this.set({ worker: w.index, mode: 'system' }, w.systemSeconds);
        }
      },
    });
    new Gauge({
      name: 'parley_worker_max_rss_bytes',
      help: 'Peak resident memory of each mediasoup worker',
      labelNames: ['worker'],
      registers,
      async collect() {
        for (const w of (await refresh()).workers) this.set({ worker: w.index }, w.maxRssBytes);
      },
    });
    new Gauge({
      name: 'parley_bitrate_bps',
      help: 'Media bitrate through the SFU, in (from clients) and out (to clients)',
      labelNames: ['direction'],
      registers,
      async collect() {
        const { bitrateIn, bitrateOut } = await refresh();
        this.set({ direction: 'in' }, bitrateIn);
        this.set({ direction: 'out' }, bitrateOut);
      },
    });
  }
}

interface Sample {
  workers: { index: string; userSeconds: number; systemSeconds: number; maxRssBytes: number }[];
  bitrateIn: number;
  bitrateOut: number;
}

async function sampleMedia(rooms: RoomRegistry, pool: WorkerPool): Promise<Sample> {
  const workers = await Promise.all(
    pool.workers.map(async (w) => {
      const usage = await w.worker.getResourceUsage().catch(() => undefined);
      return { index: String(w.index), userSeconds: (usage?.ru_utime ?? 0) / 1000, systemSeconds: (usage?.ru_stime ?? 0) / 1000, maxRssBytes: (usage?.ru_maxrss ?? 0) * 1024 };
    }),
  );
  const transports = [];
  for (const room of rooms.rooms) for (const peer of room.peers.values()) transports.push(...peer.transports.values());
  let bitrateIn = 0;
  let bitrateOut = 0;
  await Promise.all(
    transports.map(async (t) => {
      const [stats] = await t.getStats().catch(() => []);
      bitrateIn += stats?.recvBitrate ?? 0;
      bitrateOut += stats?.sendBitrate ?? 0;
    }),
  );
  return { workers, bitrateIn, bitrateOut };
}
