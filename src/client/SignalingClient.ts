import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { ClientToServerEvents, ErrorCode, ErrorReply, ReplyOf, RequestName, RequestOf, ServerToClientEvents } from '../signaling/protocol.ts';

/** Why a request failed: the server's code, or what happened on our side of the wire. */
export type FailureCode = ErrorCode | 'timeout' | 'disconnected';

/** A request the server refused (its `{error, code}` reply), or one that never got an answer. */
export class RequestError extends Error {
  readonly code: FailureCode;
  readonly request: RequestName;

  constructor(request: RequestName, code: FailureCode, message: string) {
    super(message);
    this.name = 'RequestError';
    this.code = code;
    this.request = request;
  }
}

/** The code of a failure, when it is a RequestError. */
export const failureCode = (error: unknown): FailureCode | undefined => (error instanceof RequestError ? error.code : undefined);

export interface SignalingOptions {
  /** The server; by default the page's own origin. */
  url?: string;
  /** Reconnect by itself after a drop (the call does; the connection check does not). */
  reconnection?: boolean;
  requestTimeoutMs?: number;
  /** Anything else for Socket.IO (tests pick transports, headers). */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

type Listener<E extends keyof ServerToClientEvents> = ServerToClientEvents[E];
type UntypedEmitter = { emit(event: string, payload: unknown, ack: (error: Error | null, reply: unknown) => void): void };

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * One signaling socket and the one way to ask the server something: `request()` sends a typed
 * request and resolves with its typed reply, or rejects with a RequestError carrying the server's
 * error code (or 'timeout' / 'disconnected'). Requests sent back to back are not awaited in between:
 * the server answers each in order of need, so a join can pipeline its steps.
 */
export class SignalingClient {
  readonly #socket: ClientSocket;
  readonly #timeoutMs: number;
  readonly #reconnection: boolean;

  constructor(options: SignalingOptions = {}) {
    const reconnection = (this.#reconnection = options.reconnection ?? true);
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#socket = io(options.url, {
      autoConnect: false,
      forceNew: true,
      transports: ['websocket', 'polling'],
      reconnection,
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      timeout: this.#timeoutMs,
      ...options.socketOptions,
    });
  }

  get connected(): boolean {
    return this.#socket.connected;
  }

  /** True while Socket.IO itself is trying to (re)connect. */
  get active(): boolean {
    return this.#socket.active;
  }

  /** The socket itself, for tests and diagnostics (the call speaks through request() and on()). */
  get socket(): ClientSocket {
    return this.#socket;
  }

  get id(): string | undefined {
    return this.#socket.id;
  }

  connect(): void {
    this.#socket.connect();
  }

  /** Resolves once connected (at once if already); rejects on a refused handshake. */
  whenConnected(): Promise<void> {
    if (this.#socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        this.#socket.off('connect_error', onError);
        resolve();
      };
      const onError = (error: Error) => {
        // Socket.IO retries by itself while reconnecting is on and the server did not refuse us outright.
        if (this.#reconnection && this.#socket.active) return;
        this.#socket.off('connect', onConnect);
        this.#socket.off('connect_error', onError);
        reject(error);
      };
      this.#socket.once('connect', onConnect);
      this.#socket.on('connect_error', onError);
    });
  }

  close(): void {
    this.#socket.close();
  }

  on<E extends keyof ServerToClientEvents>(event: E, listener: Listener<E>): void {
    (this.#socket.on as (event: E, listener: Listener<E>) => void)(event, listener);
  }

  onConnect(listener: () => void): void {
    this.#socket.on('connect', listener);
  }

  onDisconnect(listener: (reason: string) => void): void {
    this.#socket.on('disconnect', listener);
  }

  onConnectError(listener: (error: Error) => void): void {
    this.#socket.on('connect_error', listener);
  }

  /** Sends a request; resolves with its result, rejects with a RequestError (the server's code, or timeout / disconnected). */
  async request<E extends RequestName>(event: E, payload: RequestOf<E>, timeoutMs = this.#timeoutMs): Promise<ReplyOf<E>> {
    const reply = await this.ack(event, payload, timeoutMs);
    if (isErrorReply(reply)) throw new RequestError(event, reply.code ?? 'internal', reply.error);
    return reply;
  }

  /** Sends a request and resolves with its acknowledgement as it came: the result or `{error, code}`. */
  ack<E extends RequestName>(event: E, payload: RequestOf<E>, timeoutMs = this.#timeoutMs): Promise<ReplyOf<E> | ErrorReply> {
    if (!this.#socket.connected) return Promise.reject(new RequestError(event, 'disconnected', 'not connected to the server'));
    // Socket.IO's typings cannot follow a generic event name to its ack; the event map above is what binds them.
    const emitter = this.#socket.timeout(timeoutMs) as unknown as UntypedEmitter;
    return new Promise((resolve, reject) => {
      emitter.emit(event, payload, (error, reply) => {
        if (error) return reject(new RequestError(event, this.#socket.connected ? 'timeout' : 'disconnected', `${event}: no answer from the server`));
        resolve(reply as ReplyOf<E> | ErrorReply);
      });
    });
  }
}

function isErrorReply(reply: unknown): reply is ErrorReply {
  return typeof reply === 'object' && reply !== null && typeof (reply as { error?: unknown }).error === 'string';
}
