import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { Server } from 'socket.io';
import { AddressSlots } from '../net/addressSlots.ts';
import type { Peer } from '../rooms/Peer.ts';
import type { Services } from '../services.ts';
import { TIMEOUTS } from '../timeouts.ts';
import { Connection } from './Connection.ts';
import type { ClientToServerEvents, ServerToClientEvents } from './protocol.ts';
import { RoomBroadcaster } from './RoomBroadcaster.ts';

/** Largest signaling frame: an rtpCapabilities object is ~10 KB; Socket.IO's default is 1 MB. */
export const MAX_FRAME_BYTES = 64 * 1024;

/** An engine.io request that opens a new connection (every later one names its session id). */
const opensConnection = (req: IncomingMessage) => !new URL(req.url ?? '/', 'http://parley.invalid').searchParams.has('sid');

/**
 * Socket.IO on the HTTP server. Every new engine.io connection (long-polling or a raw WebSocket
 * upgrade alike) is admitted at its handshake: origin, then a slot among its address's
 * MAX_SOCKETS_PER_ADDRESS (held until the connection closes), then the connection budget. A
 * connection that never opens its Socket.IO session is dropped after a few seconds, and one
 * connection carries one session at a time. Each session gets a Connection.
 */
export class SignalingServer {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents>;
  readonly connections = new Map<string, Connection>();

  constructor(httpServer: HttpServer | HttpsServer, services: Services, options: { connectTimeoutMs?: number } = {}) {
    const { clients, config, limits } = services;
    const allowed = new Set(config.allowedOrigins);
    const sockets = new AddressSlots(config.caps.socketsPerAddress);
    /** Slots taken at a handshake, until engine.io reports the connection (or its socket closes first). */
    const pending = new WeakMap<IncomingMessage, () => void>();
    this.io = new Server(httpServer, {
      maxHttpBufferSize: MAX_FRAME_BYTES,
      serveClient: false,
      pingInterval: TIMEOUTS.socketPingIntervalMs,
      pingTimeout: TIMEOUTS.socketPingTimeoutMs,
      connectTimeout: options.connectTimeoutMs ?? TIMEOUTS.socketConnectMs,
      allowRequest: (req, callback) => {
        if (!clients.isSameOriginOrAllowed(req, allowed)) return callback('origin not allowed', false);
        if (!opensConnection(req)) return callback(null, true);
        const client = clients.resolve(req);
        if (client.exempt) return callback(null, true);
        const release = sockets.acquire(client.ip);
        if (!release) return callback('too many connections from your address', false);
        pending.set(req, release);
        // Released with the connection once engine.io reports it; before that, with the request's socket.
        req.socket.once('close', () => {
          if (pending.get(req) !== release) return;
          pending.delete(req);
          release();
        });
        limits.take('connectionsPerIp', client.ip).then(
          (ok) => {
            if (!ok) release();
            callback(ok ? null : 'rate limited: too many connections', ok);
          },
          () => callback(null, true), // the limiter's store is down: admit rather than lock everyone out
        );
      },
    });
    this.io.engine.on('connection', (conn: { request: IncomingMessage; once(event: 'close', listener: () => void): void }) => {
      const release = pending.get(conn.request);
      if (!release) return;
      pending.delete(conn.request);
      conn.once('close', release);
    });
    this.io.engine.on('connection_error', (error: { req?: IncomingMessage }) => {
      if (error.req) pending.get(error.req)?.();
    });
    const busy = new WeakSet<object>();
    this.io.use((socket, next) => {
      if (busy.has(socket.conn)) return next(new Error('this connection already carries a session'));
      busy.add(socket.conn);
      socket.once('disconnect', () => busy.delete(socket.conn));
      next();
    });
    this.io.on('connection', (socket) => {
      const client = clients.resolve(socket.request);
      this.connections.set(socket.id, new Connection(socket, services, client, (peer) => this.#evict(peer)));
      socket.once('disconnect', () => this.connections.delete(socket.id));
    });
    new RoomBroadcaster(this.io, services.registry);
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
