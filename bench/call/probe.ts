/**
 * The receiver page's side of the call benchmark: an init script (runs before the page's own, so it
 * sees every RTCPeerConnection the page makes) and what `window.__callBench.sample()` returns: one
 * entry per inbound video stream from getStats(), tied to the tile that shows its track.
 */

export interface InboundVideo {
  /** The inbound-rtp stats id, prefixed with its connection's index (ids are unique within one connection only). */
  id: string;
  /** The stats timestamp, ms. */
  timestamp: number;
  bytesReceived: number;
  framesDecoded: number;
  frameHeight: number;
  freezeCount: number;
  packetsLost: number;
  framesDropped: number;
  /** Seconds. */
  totalFreezesDuration: number;
  /** data-user-id of the tile that shows the track, if any. */
  userId: string | undefined;
  /** The tile is on screen (rendered, in the viewport). */
  visible: boolean;
}

/** After the next click: the pinned tile's video height over time, as "360p@0 → 720p@900" (ms after the click). */
export interface SwitchWatch {
  ms: number | undefined;
  height: number;
  trace: string;
}

export interface PageSample {
  video: InboundVideo[];
  /** Inbound audio streams: stats id → bytes received. */
  audio: Record<string, number>;
  /** Inbound audio streams: stats id → [packets received, packets lost]. */
  audioPackets: Record<string, [number, number]>;
  /** RTCPeerConnections the page has made so far (a reconnect makes new ones). */
  connections: number;
  /** When the stats were taken (an inbound video stream's stats timestamp, else now), ms since the epoch. */
  at: number;
}

/** What the probe puts on the page's window. */
export interface CallBenchWindow {
  __callBench: {
    sample(): Promise<PageSample>;
    /** Starts watching for the next click and the switch after it; `switched` is the result. */
    armSwitchWatch(userId: string, minHeight: number, timeoutMs: number): void;
    switched: Promise<SwitchWatch> | undefined;
  };
}

/** Injected with addInitScript; must be self-contained. */
export function probe(): void {
  const connections: RTCPeerConnection[] = [];
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
      super(...args);
      connections.push(this);
    }
  };
  const tileOf = (trackId: string): { userId: string | undefined; visible: boolean } => {
    for (const video of document.querySelectorAll('video')) {
      const stream = video.srcObject;
      if (!(stream instanceof MediaStream) || !stream.getTracks().some((t) => t.id === trackId)) continue;
      const tile = video.closest<HTMLElement>('[data-user-id]');
      const box = video.getBoundingClientRect();
      const inViewport = box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0 && box.left < innerWidth && box.top < innerHeight;
      return { userId: tile?.dataset.userId, visible: inViewport && video.checkVisibility({ opacityProperty: true, visibilityProperty: true }) };
    }
    return { userId: undefined, visible: false };
  };
  const sample = async (): Promise<PageSample> => {
    const out: PageSample = { video: [], audio: {}, audioPackets: {}, connections: connections.length, at: performance.timeOrigin + performance.now() };
    for (const [index, pc] of connections.entries()) {
      if (pc.signalingState === 'closed') continue;
      const stats = await pc.getStats();
      for (const s of stats.values()) {
        if (s.type !== 'inbound-rtp') continue;
        if (s.kind === 'audio') {
          out.audio[`${index}/${s.id}`] = s.bytesReceived ?? 0;
          out.audioPackets[`${index}/${s.id}`] = [s.packetsReceived ?? 0, s.packetsLost ?? 0];
          continue;
        }
        out.at = s.timestamp;
        out.video.push({
          id: `${index}/${s.id}`,
          timestamp: s.timestamp,
          bytesReceived: s.bytesReceived ?? 0,
          framesDecoded: s.framesDecoded ?? 0,
          frameHeight: s.frameHeight ?? 0,
          freezeCount: s.freezeCount ?? 0,
          packetsLost: s.packetsLost ?? 0,
          framesDropped: s.framesDropped ?? 0,
          totalFreezesDuration: s.totalFreezesDuration ?? 0,
          ...tileOf(s.trackIdentifier),
        });
      }
    }
    return out;
  };
  /**
   * Waits for the next click (its time taken in the capture phase, before the page's handlers),
   * then watches the height of the frames `userId`'s tile shows (its <video>'s videoHeight, every
   * 10 ms: cheaper and finer than getStats) until it is ≥ minHeight or timeoutMs passes — on the
   * page's clock, so neither Playwright's click checks nor round trips count.
   */
  const watchSwitch = async (userId: string, minHeight: number, timeoutMs: number): Promise<SwitchWatch> => {
    const clicked = await new Promise<number>((resolve) => window.addEventListener('click', () => resolve(performance.now()), { capture: true, once: true }));
    const trace: string[] = [];
    let last = '';
    let height = 0;
    while (performance.now() - clicked < timeoutMs) {
      const video = document.querySelector<HTMLVideoElement>(`[data-user-id="${CSS.escape(userId)}"] video`);
      const ms = performance.now() - clicked;
      height = video?.videoHeight ?? 0;
      const state = video ? `${height}p` : 'no tile';
      if (state !== last) trace.push(`${state}@${ms.toFixed(0)}`);
      last = state;
      if (height >= minHeight) return { ms, height, trace: trace.join(' → ') };
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return { ms: undefined, height, trace: trace.join(' → ') };
  };
  const bench: CallBenchWindow['__callBench'] = {
    sample,
    armSwitchWatch(userId, minHeight, timeoutMs) {
      bench.switched = watchSwitch(userId, minHeight, timeoutMs);
    },
    switched: undefined,
  };
  (window as unknown as CallBenchWindow).__callBench = bench;
}
