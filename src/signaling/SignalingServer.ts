import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { Server } from 'socket.io';
import type { Logger } from '../log.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { RoomStateStore } from '../store/RoomStateStore.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { Peer } from '../rooms/Peer.ts';
import { Connection } from './Connection.ts';
import { isLocalRequest, type RateLimits } from './rateLimits.ts';
import { channelOf, PROBE_LIFETIME_MS } from './handlers.ts';
import type { ClientToServerEvents, ServerToClientEvents } from './protocol.ts';

/** Largest signaling frame: an rtpCapabilities object is ~10 KB; Socket.IO's default is 1 MB. */
export const MAX_FRAME_BYTES = 64 * 1024;

export interface SignalingOptions {
  httpServer: HttpServer | HttpsServer;
  registry: RoomRegistry;
  store: RoomStateStore;
  log: Logger;
  /** Extra origins allowed besides the page's own. */
  allowedOrigins?: string[];
  /** Behind a reverse proxy: the page's host may arrive as X-Forwarded-Host. */
  trustProxy?: boolean;
  limits: RateLimits;
  tokens?: TokenVerifier;
  /** How long a connectivity probe may run before its socket is closed (default PROBE_LIFETIME_MS). */
  probeLifetimeMs?: number;
  onSignalingError?: (event: string, kind: 'user' | 'internal') => void;
}

export class SignalingServer {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents>;
  readonly connections = new Map<string, Connection>();

  constructor(options: SignalingOptions) {
    const log = options.log.child({ component: 'signaling' });
    const allowed = new Set(options.allowedOrigins ?? []);
    const trustProxy = options.trustProxy ?? false;
    this.io = new Server(options.httpServer, {
      maxHttpBufferSize: MAX_FRAME_BYTES,
      serveClient: false,
      pingInterval: 10_000,
      pingTimeout: 8_000,
      allowRequest: (req, callback) => callback(null, isSameOriginOrAllowed(req, allowed, trustProxy)),
    });
    this.io.use((socket, next) => {
      if (isLocalRequest(socket.request, trustProxy)) return next();
      options.limits.take('connectionsPerIp', clientIpOf(socket.request, trustProxy)).then(
        (ok) => next(ok ? undefined : new Error('rate limited: too many connections')),
        () => next(),
      );
    });
    this.io.on('connection', (socket) => {
      const connection = new Connection(socket, {
        registry: options.registry,
        store: options.store,
        log,
        limits: options.limits,
        tokens: options.tokens,
        clientIp: clientIpOf(socket.request, trustProxy),
        local: isLocalRequest(socket.request, trustProxy),
        probeLifetimeMs: options.probeLifetimeMs ?? PROBE_LIFETIME_MS,
        evict: (peer) => this.#evict(peer),
        onSignalingError: options.onSignalingError,
      });
      this.connections.set(socket.id, connection);
      socket.once('disconnect', () => this.connections.delete(socket.id));
    });
    // A room that closes under its peers (worker died, shutdown): unbind them and tell them to rejoin.
    options.registry.on('roomClosed', (room, reason) => {
      if (reason === 'empty') return;
      for (const [socketId, connection] of this.connections) {
        if (connection.session.room !== room) continue;
        connection.forgetRoom();
        // A probe never joins its room's channel: tell it directly.
        if (room.probe) this.io.to(socketId).emit('roomClosed', { roomId: room.id, reason });
      }
      this.io.to(channelOf(room.id)).emit('roomClosed', { roomId: room.id, reason });
      this.io.in(channelOf(room.id)).socketsLeave(channelOf(room.id));
    });
  }

  /** A reclaimed seat: the old socket loses its room and is dropped, without a leave. */
  #evict(peer: Peer): void {
    this.connections.get(peer.socketId)?.forgetRoom();
    this.io.sockets.sockets.get(peer.socketId)?.disconnect(true);
  }

  async close(): Promise<void> {
    this.io.disconnectSockets(true);
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }
}

/** Browsers send Origin; it must match the Host the page came from, or be allow-listed. */
export function isSameOriginOrAllowed(req: IncomingMessage, allowed: Set<string>, trustProxy: boolean): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // not a browser (bots, tests, server-side clients)
  if (allowed.has(origin)) return true;
  const forwardedHost = trustProxy ? firstHeader(req.headers['x-forwarded-host']) : undefined;
  try {
    const host = new URL(origin).host;
    return host === req.headers.host || (forwardedHost !== undefined && host === forwardedHost);
  } catch {
    return false;
  }
}

/** The rightmost X-Forwarded-For entry is the one our proxy added; earlier ones are the client's word. */
export function clientIpOf(req: IncomingMessage, trustProxy: boolean): string {
  const header = req.headers['x-forwarded-for'];
  const forwarded = trustProxy ? (Array.isArray(header) ? header.at(-1) : header)?.split(',').at(-1)?.trim() || undefined : undefined;
  return forwarded !== undefined ? withoutPort(forwarded) : (req.socket.remoteAddress ?? 'unknown');
}

/** Some proxies write "1.2.3.4:5678" or "[2001:db8::1]:443": the port must not make a new client. */
function withoutPort(value: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) return bracketed[1]!;
  const v4WithPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(value);
  return v4WithPort ? v4WithPort[1]! : value;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.split(',')[0]?.trim() || undefined;
}
