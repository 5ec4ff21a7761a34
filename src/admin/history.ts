import type { WorkerPool } from '../media/WorkerPool.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { collectLiveStats, type LiveStats } from './stats.ts';

export interface Sample {
  at: number;
  participants: number;
  bitrateIn: number;
  bitrateOut: number;
  /** Per worker index: CPU use since the previous sample, percent of one core. */
  cpuPct: Record<number, number>;
}

export const HISTORY_WINDOW_MS = 15 * 60 * 1000;

/**
 * The last 15 minutes of the server, sampled every few seconds while the admin page is enabled: what
 * its graphs draw. Kept in memory only (a restart starts a fresh window).
 */
export class StatsHistory {
  readonly #registry: RoomRegistry;
  readonly #pool: WorkerPool;
  readonly #intervalMs: number;
  readonly #samples: Sample[] = [];
  /** Per worker index: [cpu seconds, at] of the previous sample, with the worker's pid (a replaced worker starts over). */
  readonly #lastCpu = new Map<number, { pid: number | undefined; cpuSeconds: number; at: number }>();
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> | undefined;

  constructor(registry: RoomRegistry, pool: WorkerPool, intervalMs = 5000) {
    this.#registry = registry;
    this.#pool = pool;
    this.#intervalMs = intervalMs;
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  get samples(): readonly Sample[] {
    return this.#samples;
  }

  start(): this {
    if (this.#timer) return this;
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.#intervalMs).unref();
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Takes one sample now (one at a time); resolves with the live stats it read. */
  async sample(): Promise<LiveStats | undefined> {
    if (this.#sampling) return undefined;
    let live: LiveStats | undefined;
    this.#sampling = (async () => {
      live = await collectLiveStats(this.#registry, this.#pool).catch(() => undefined);
      if (live) this.#record(live);
    })().finally(() => (this.#sampling = undefined));
    await this.#sampling;
    return live;
  }

  #record(live: LiveStats): void {
    const cpuPct: Record<number, number> = {};
    for (const w of live.workers) {
      const last = this.#lastCpu.get(w.index);
      if (w.alive && last && last.pid === w.pid && live.at > last.at) {
        cpuPct[w.index] = Math.max(0, Math.round(((w.cpuSeconds - last.cpuSeconds) / ((live.at - last.at) / 1000)) * 1000) / 10);
      }
      this.#lastCpu.set(w.index, { pid: w.pid, cpuSeconds: w.cpuSeconds, at: live.at });
    }
    this.#samples.push({ at: live.at, participants: live.participants, bitrateIn: live.bitrateIn, bitrateOut: live.bitrateOut, cpuPct });
    const oldest = live.at - HISTORY_WINDOW_MS;
    while (this.#samples.length > 0 && this.#samples[0]!.at < oldest) this.#samples.shift();
  }
}
