import type { types } from 'mediasoup';
import type { WorkerPool } from '../media/WorkerPool.ts';
import type { Peer } from '../rooms/Peer.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';

export type Quality = 'good' | 'fair' | 'poor' | 'unknown';

export interface ParticipantStats {
  userId: string;
  userName: string;
  role: string;
  /** From mediasoup's stream scores (0-10): the worst of what they send and what they receive. */
  quality: Quality;
  score: number | undefined;
  /** Bits per second they send to the server (up) and get from it (down). */
  bitrateUp: number;
  bitrateDown: number;
  /** Recent packet loss, percent (RTCP fraction lost), the worst of their streams. */
  packetLossPct: number | undefined;
  /** Round-trip time to their browser (ms), from RTCP receiver reports. */
  rttMs: number | undefined;
  producers: number;
  consumers: number;
}

export interface RoomStats {
  id: string;
  /** The room's first worker, and every worker it has a router on. */
  worker: number;
  workers: number[];
  participants: ParticipantStats[];
  bitrateUp: number;
  bitrateDown: number;
}

export interface WorkerStats {
  index: number;
  pid: number | undefined;
  alive: boolean;
  /** CPU time used so far (user + system), seconds. */
  cpuSeconds: number;
  maxRssBytes: number;
  rooms: number;
  transports: number;
  producers: number;
  consumers: number;
}

export interface LiveStats {
  at: number;
  rooms: RoomStats[];
  workers: WorkerStats[];
  participants: number;
  bitrateIn: number;
  bitrateOut: number;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const settled = <T>(promise: Promise<T>, fallback: T) => promise.catch(() => fallback);

export function qualityOf(score: number | undefined): Quality {
  if (score === undefined) return 'unknown';
  return score >= 8 ? 'good' : score >= 5 ? 'fair' : 'poor';
}

async function participantStats(peer: Peer): Promise<ParticipantStats> {
  const transports = await Promise.all([...peer.transports.values()].map((t) => settled(t.getStats(), [] as types.WebRtcTransportStat[])));
  const producers = await Promise.all([...peer.producers.values()].map((p) => settled(p.getStats(), [] as types.ProducerStat[])));
  const consumers = await Promise.all([...peer.consumers.values()].map((c) => settled(c.getStats(), [] as types.ConsumerStat[])));
  const scores = [
    ...[...peer.producers.values()].flatMap((p) => p.score.map((s) => s.score)),
    // A paused consumer sends nothing and scores nothing worth showing.
    ...[...peer.consumers.values()].filter((c) => !c.paused && !c.producerPaused).map((c) => c.score.score),
  ];
  const losses: number[] = [];
  const rtts: number[] = [];
  for (const stats of producers) for (const s of stats) losses.push(s.fractionLost);
  for (const stats of consumers) {
    // The first entry is the consumer's own outbound stream to this participant.
    const out = stats.find((s) => s.type === 'outbound-rtp');
    if (!out) continue;
    losses.push(out.fractionLost);
    if (out.roundTripTime !== undefined && out.roundTripTime > 0) rtts.push(out.roundTripTime);
  }
  const score = scores.length > 0 ? Math.min(...scores) : undefined;
  return {
    userId: peer.userId,
    userName: peer.userName,
    role: peer.role,
    quality: qualityOf(score),
    score,
    bitrateUp: sum(transports.map((t) => t[0]?.recvBitrate ?? 0)),
    bitrateDown: sum(transports.map((t) => t[0]?.sendBitrate ?? 0)),
    // fractionLost is RTCP's 8-bit fraction (0-255).
    packetLossPct: losses.length > 0 ? Math.round((Math.max(...losses) / 256) * 1000) / 10 : undefined,
    rttMs: rtts.length > 0 ? Math.round(sum(rtts) / rtts.length) : undefined,
    producers: peer.producers.size,
    consumers: peer.consumers.size,
  };
}

/** Everything the admin page shows, read from the live objects and mediasoup's getStats(). */
export async function collectLiveStats(registry: RoomRegistry, pool: WorkerPool): Promise<LiveStats> {
  const calls = [...registry.rooms].filter((room) => room.policy.kind === 'call' && !room.closed);
  const rooms = await Promise.all(
    calls.map(async (room): Promise<RoomStats> => {
      const participants = await Promise.all([...room.peers.values()].map(participantStats));
      participants.sort((a, b) => a.userName.localeCompare(b.userName));
      return { id: room.id, worker: room.mediaWorker.index, workers: room.workers.map((w) => w.index).sort((a, b) => a - b), participants, bitrateUp: sum(participants.map((p) => p.bitrateUp)), bitrateDown: sum(participants.map((p) => p.bitrateDown)) };
    }),
  );
  rooms.sort((a, b) => b.participants.length - a.participants.length || a.id.localeCompare(b.id));
  const workers = await Promise.all(
    pool.workers.map(async (w): Promise<WorkerStats> => {
      const usage = w.closed ? undefined : await settled(w.worker.getResourceUsage(), undefined);
      let roomsOn = 0;
      let transports = 0;
      let producers = 0;
      let consumers = 0;
      // Every room counts here, connection checks too: they use the worker as much.
      for (const room of registry.rooms) {
        if (!room.workers.includes(w)) continue;
        roomsOn++;
        for (const peer of room.peers.values()) {
          if (peer.mediaWorker !== w) continue;
          transports += peer.transports.size;
          producers += peer.producers.size;
          consumers += peer.consumers.size;
        }
      }
      return {
        index: w.index,
        pid: w.worker.pid,
        alive: !w.closed,
        cpuSeconds: usage ? (usage.ru_utime + usage.ru_stime) / 1000 : 0,
        maxRssBytes: usage ? usage.ru_maxrss * 1024 : 0,
        rooms: roomsOn,
        transports,
        producers,
        consumers,
      };
    }),
  );
  workers.sort((a, b) => a.index - b.index);
  return {
    at: Date.now(),
    rooms,
    workers,
    participants: sum(rooms.map((r) => r.participants.length)),
    bitrateIn: sum(rooms.map((r) => r.bitrateUp)),
    bitrateOut: sum(rooms.map((r) => r.bitrateDown)),
  };
}
