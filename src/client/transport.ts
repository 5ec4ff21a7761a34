import type { Device, types } from 'mediasoup-client';
import type { ReplyOf, RequestName, RequestOf } from '../signaling/protocol.ts';
import { selectedLocalCandidate } from './connectivityDiagnosis.ts';
import { mark } from './marks.ts';

export type Direction = 'send' | 'recv';

/** How long a 'disconnected' transport may heal by itself before it gets an ICE restart. */
const DISCONNECTED_GRACE_MS = 2000;
/** With a TURN relay offered: how long the first, direct-or-relayed attempt may take before we go relay-only. */
export const FIRST_CONNECT_MS = 12_000;

/** How a transport reached the server: directly, or through the TURN relay. */
export type MediaPath = 'direct' | 'relay';

export interface TransportOptions {
  direction: Direction;
  roomId: string;
  device: Promise<Device>;
  /** The session's requests (they fail once the session has closed). */
  request<E extends RequestName>(event: E, payload: RequestOf<E>): Promise<ReplyOf<E>>;
  /** True once nobody needs this transport healed any more. */
  isClosed(): boolean;
  onState(state: types.ConnectionState): void;
  /** Start relay-only (an earlier transport of this call needed the relay). */
  relayOnly?: () => boolean;
  /** The direct attempt failed and this transport now tries through the relay only. */
  onRelayFallback?: () => void;
  /** Connected: directly or through the relay. */
  onPath?: (path: MediaPath) => void;
}

/**
 * A send or receive transport of a media session: asked for on the server, wired to signaling for
 * DTLS and produce, and kept alive by ICE restarts when its path breaks.
 */
export async function openTransport(options: TransportOptions): Promise<types.Transport> {
  const { direction, request } = options;
  const params = await request('createWebRtcTransport', { roomId: options.roomId, producing: direction === 'send', consuming: direction === 'recv' });
  const device = await options.device;
  // With a TURN relay: every path at once first ('all': direct UDP/TCP and the relay, ICE picks the
  // best); relay-only when that failed, or when an earlier transport of this call needed it.
  const relay = new RelayFallback(params.iceServers !== undefined && params.iceServers.length > 0, options);
  const settings = { ...params, iceServers: params.iceServers ?? [], iceTransportPolicy: relay.policy };
  const transport = direction === 'send' ? device.createSendTransport(settings) : device.createRecvTransport(settings);
  relay.attach(transport);
  mark(`${direction}-transport`);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    request('connectWebRtcTransport', { transportId: transport.id, dtlsParameters }).then(() => callback(), errback);
  });
  transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
    request('produce', { transportId: transport.id, kind, rtpParameters, appData }).then(({ producerId }) => callback({ id: producerId }), errback);
  });
  const restarter = new IceRestarter(transport, options, relay);
  let firstConnect: ReturnType<typeof setTimeout> | undefined;
  transport.on('connectionstatechange', (state) => {
    if (state === 'connected' && direction === 'recv') mark('dtls-connected');
    options.onState(state);
    if (state === 'connected') {
      clearTimeout(firstConnect);
      relay.connected();
    }
    // A first attempt that neither connects nor fails (packets silently dropped) is not waited for
    // long when a relay is on offer.
    if (state === 'connecting' && !relay.everConnected && firstConnect === undefined && relay.available) {
      firstConnect = setTimeout(() => {
        if (!transport.closed && !relay.everConnected && transport.connectionState !== 'connected') void restarter.run();
      }, FIRST_CONNECT_MS);
    }
    // 'failed' needs new ICE credentials at once. 'disconnected' often heals by itself within a
    // moment (a Wi-Fi hiccup); if it has not after a short grace, restart ICE for it too.
    if (state === 'failed') void restarter.run();
    if (state === 'disconnected') {
      setTimeout(() => {
        if (!transport.closed && transport.connectionState === 'disconnected') void restarter.run();
      }, DISCONNECTED_GRACE_MS);
    }
    if (state === 'closed') clearTimeout(firstConnect);
  });
  return transport;
}

/**
 * The relay-only fallback of one transport. The browser's RTCPeerConnection takes a new
 * iceTransportPolicy from setConfiguration() and applies it from the next ICE gathering on, so
 * "retry relayed" is: switch the policy, then an ICE restart (IceRestarter) gathers relay
 * candidates only. Producers and consumers stay as they are.
 */
class RelayFallback {
  readonly available: boolean;
  readonly #options: TransportOptions;
  #transport: types.Transport | undefined;
  policy: RTCIceTransportPolicy;
  everConnected = false;

  constructor(available: boolean, options: TransportOptions) {
    this.available = available;
    this.#options = options;
    this.policy = available && options.relayOnly?.() ? 'relay' : 'all';
  }

  attach(transport: types.Transport): void {
    this.#transport = transport;
  }

  /** Before an ICE restart: go relay-only if the relay is on offer and the direct attempt did not work. */
  beforeRestart(attempt: number): void {
    if (!this.available || this.policy === 'relay') return;
    // A transport that never connected goes relayed at once; one that worked and broke gets one
    // plain restart first (the network may have changed and come back).
    if (this.everConnected && attempt === 0) return;
    const pc = this.#peerConnection();
    if (!pc) return;
    try {
      pc.setConfiguration({ ...pc.getConfiguration(), iceTransportPolicy: 'relay' });
    } catch {
      return;
    }
    this.policy = 'relay';
    this.#options.onRelayFallback?.();
  }

  /** Connected: find out whether through the relay (the selected pair's local candidate). */
  connected(): void {
    this.everConnected = true;
    const transport = this.#transport;
    if (!transport || !this.#options.onPath) return;
    const report = async (tries: number): Promise<void> => {
      const local = selectedLocalCandidate(await transport.getStats());
      if (local) return this.#options.onPath?.(local.type === 'relay' ? 'relay' : 'direct');
      if (tries > 0 && !transport.closed) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        return report(tries - 1);
      }
    };
    void report(6).catch(() => {});
  }

  /**
   * The transport's RTCPeerConnection (mediasoup-client keeps it in its handler, as `_pc` in every
   * browser handler); undefined if that ever changes, and the fallback is then a plain ICE restart.
   */
  #peerConnection(): RTCPeerConnection | undefined {
    const pc = (this.#transport?.handler as unknown as { _pc?: unknown } | undefined)?._pc;
    return typeof RTCPeerConnection !== 'undefined' && pc instanceof RTCPeerConnection ? pc : undefined;
  }
}

/**
 * Restarts ICE, and again (with backoff) while the transport stays disconnected or failed. One loop
 * per transport: each restart rotates the server's credentials, so overlapping ones would undo
 * each other.
 */
class IceRestarter {
  readonly #transport: types.Transport;
  readonly #options: TransportOptions;
  readonly #relay: RelayFallback;
  #running = false;

  constructor(transport: types.Transport, options: TransportOptions, relay: RelayFallback) {
    this.#transport = transport;
    this.#options = options;
    this.#relay = relay;
  }

  async run(): Promise<void> {
    const transport = this.#transport;
    if (this.#running) return;
    this.#running = true;
    try {
      for (let attempt = 0; !transport.closed && !this.#options.isClosed(); attempt++) {
        try {
          this.#relay.beforeRestart(attempt);
          const { iceParameters, iceServers } = await this.#options.request('restartIce', { transportId: transport.id });
          // Fresh relay credentials (the old ones may have expired in a long call).
          if (iceServers && !transport.closed) await transport.updateIceServers({ iceServers });
          if (!transport.closed) await transport.restartIce({ iceParameters });
        } catch {
          // The reconnect path rebuilds everything if this transport is gone for good.
        }
        // Give the new credentials time to connect before judging them.
        await new Promise((resolve) => setTimeout(resolve, Math.min(3000 * 2 ** attempt, 30_000)));
        if (transport.connectionState !== 'failed' && transport.connectionState !== 'disconnected') return;
      }
    } finally {
      this.#running = false;
    }
  }
}
