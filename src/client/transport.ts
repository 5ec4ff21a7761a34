import type { Device, types } from 'mediasoup-client';
import type { ReplyOf, RequestName, RequestOf } from '../signaling/protocol.ts';
import { mark } from './marks.ts';

export type Direction = 'send' | 'recv';

/** How long a 'disconnected' transport may heal by itself before it gets an ICE restart. */
const DISCONNECTED_GRACE_MS = 2000;

export interface TransportOptions {
  direction: Direction;
  roomId: string;
  device: Promise<Device>;
  /** The session's requests (they fail once the session has closed). */
  request<E extends RequestName>(event: E, payload: RequestOf<E>): Promise<ReplyOf<E>>;
  /** True once nobody needs this transport healed any more. */
  isClosed(): boolean;
  onState(state: types.ConnectionState): void;
}

/**
 * A send or receive transport of a media session: asked for on the server, wired to signaling for
 * DTLS and produce, and kept alive by ICE restarts when its path breaks.
 */
export async function openTransport(options: TransportOptions): Promise<types.Transport> {
  const { direction, request } = options;
  const params = await request('createWebRtcTransport', { roomId: options.roomId, producing: direction === 'send', consuming: direction === 'recv' });
  const device = await options.device;
  const transport = direction === 'send' ? device.createSendTransport(params) : device.createRecvTransport(params);
  mark(`${direction}-transport`);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    request('connectWebRtcTransport', { transportId: transport.id, dtlsParameters }).then(() => callback(), errback);
  });
  transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
    request('produce', { transportId: transport.id, kind, rtpParameters, appData }).then(({ producerId }) => callback({ id: producerId }), errback);
  });
  const restarter = new IceRestarter(transport, options);
  transport.on('connectionstatechange', (state) => {
    if (state === 'connected' && direction === 'recv') mark('dtls-connected');
    options.onState(state);
    // 'failed' needs new ICE credentials at once. 'disconnected' often heals by itself within a
    // moment (a Wi-Fi hiccup); if it has not after a short grace, restart ICE for it too.
    if (state === 'failed') void restarter.run();
    if (state === 'disconnected') {
      setTimeout(() => {
        if (!transport.closed && transport.connectionState === 'disconnected') void restarter.run();
      }, DISCONNECTED_GRACE_MS);
    }
  });
  return transport;
}

/**
 * Restarts ICE, and again (with backoff) while the transport stays disconnected or failed. One loop
 * per transport: each restart rotates the server's credentials, so overlapping ones would undo
 * each other.
 */
class IceRestarter {
  readonly #transport: types.Transport;
  readonly #options: TransportOptions;
  #running = false;

  constructor(transport: types.Transport, options: TransportOptions) {
    this.#transport = transport;
    this.#options = options;
  }

  async run(): Promise<void> {
    const transport = this.#transport;
    if (this.#running) return;
    this.#running = true;
    try {
      for (let attempt = 0; !transport.closed && !this.#options.isClosed(); attempt++) {
        try {
          const { iceParameters } = await this.#options.request('restartIce', { transportId: transport.id });
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
