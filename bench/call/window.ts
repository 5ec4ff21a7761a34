/**
 * A measurement window over the receiver page: samples its getStats() every second and adds up each
 * inbound stream's counters between samples, so a stream that the page replaces mid-window (a
 * reconnect makes new transports and consumers) still counts — a new one from zero, an ended one up
 * to its last sample (at most a second of it lost).
 */
import { sleep } from '../lib.ts';
import type { InboundVideo, PageSample } from './probe.ts';

const INTERVAL_MS = 1000;

/** One inbound video stream's share of the window. */
export interface StreamTotals {
  id: string;
  /** The tile it was last seen in; undefined for a stream no tile shows (the probator). */
  userId: string | undefined;
  bytes: number;
  frames: number;
  freezes: number;
  freezeSeconds: number;
  lost: number;
  dropped: number;
  /** When a tile last showed it (in the last sample, unless the page replaced it): its height, and whether the tile was on screen. */
  height: number;
  visible: boolean;
  /** The last sample (1, 2, …) in which a tile showed it; -1: none did. */
  shownAt: number;
  /** A tile shows it in the last sample. */
  shownAtEnd: boolean;
}

export interface WindowTotals {
  seconds: number;
  streams: StreamTotals[];
  audioBytes: number;
  /** Audio packets received and lost over the window (all streams). */
  audioReceived: number;
  audioLost: number;
  /** RTCPeerConnections the page made during the window. */
  newConnections: number;
  /** Streams that started during the window (replacing others when the page reconnects). */
  newStreams: number;
}

const NONE: InboundVideo = { id: '', timestamp: 0, bytesReceived: 0, framesDecoded: 0, frameHeight: 0, freezeCount: 0, packetsLost: 0, framesDropped: 0, totalFreezesDuration: 0, userId: undefined, visible: false };

/** `onTick` runs after every sample (to sample something else alongside). */
export async function measureWindow(sample: () => Promise<PageSample>, seconds: number, onTick?: () => Promise<void>): Promise<WindowTotals> {
  const first = await sample();
  const started = performance.now();
  // The window spans the stats' own timestamps: a busy page may answer late, its counters are of when they were taken.
  const last = new Map(first.video.map((v) => [v.id, v]));
  const lastAudio = new Map(Object.entries(first.audio));
  const totals = new Map<string, StreamTotals>();
  let audioBytes = 0;
  const firstPackets = new Map(Object.entries(first.audioPackets));
  let newStreams = 0;
  let current = first;
  for (let tick = 1; tick * INTERVAL_MS <= seconds * 1000; tick++) {
    await sleep(Math.max(0, started + tick * INTERVAL_MS - performance.now()));
    current = await sample();
    for (const v of current.video) {
      const seen = last.get(v.id);
      // Counters only grow: a stream seen for the first time, or restarted, counts from zero.
      const prev = seen && seen.bytesReceived <= v.bytesReceived && seen.framesDecoded <= v.framesDecoded ? seen : NONE;
      if (!seen) newStreams++;
      last.set(v.id, v);
      const t = totals.get(v.id) ?? { id: v.id, userId: undefined, bytes: 0, frames: 0, freezes: 0, freezeSeconds: 0, lost: 0, dropped: 0, height: 0, visible: false, shownAt: -1, shownAtEnd: false };
      totals.set(v.id, t);
      t.userId = v.userId ?? t.userId;
      if (v.userId !== undefined) Object.assign(t, { height: v.frameHeight, visible: v.visible, shownAt: tick });
      t.shownAtEnd = v.userId !== undefined;
      t.bytes += v.bytesReceived - prev.bytesReceived;
      t.frames += v.framesDecoded - prev.framesDecoded;
      t.freezes += v.freezeCount - prev.freezeCount;
      t.freezeSeconds += v.totalFreezesDuration - prev.totalFreezesDuration;
      t.lost += v.packetsLost - prev.packetsLost;
      t.dropped += v.framesDropped - prev.framesDropped;
    }
    for (const [id, bytes] of Object.entries(current.audio)) {
      const prev = lastAudio.get(id) ?? 0;
      audioBytes += bytes >= prev ? bytes - prev : bytes;
      lastAudio.set(id, bytes);
    }
    await onTick?.();
  }
  const now = new Set(current.video.map((v) => v.id));
  for (const t of totals.values()) if (!now.has(t.id)) t.shownAtEnd = false;
  let audioReceived = 0;
  let audioLost = 0;
  for (const [id, [received, lost]] of Object.entries(current.audioPackets)) {
    const [received0, lost0] = firstPackets.get(id) ?? [0, 0];
    audioReceived += received - received0;
    audioLost += Math.max(0, lost - lost0);
  }
  return { seconds: (current.at - first.at) / 1000, streams: [...totals.values()], audioBytes, audioReceived, audioLost, newConnections: current.connections - first.connections, newStreams };
}
