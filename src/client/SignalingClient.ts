import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ErrorCode, ReplyOf, RequestName, RequestOf, ServerToClientEvents } from '../signaling/protocol.ts';

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
  /** Reconnect by itself after a drop (the call does; the connection check does not). */
  reconnection?: boolean;
  requestTimeoutMs?: number;
}

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
  readonly #socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  readonly #timeoutMs: number;

  constructor(options: SignalingOptions = {}) {
    const reconnection = options.reconnection ?? true;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#socket = io({
      autoConnect: false,
      forceNew: true,
      transports: ['websocket', 'polling'],
      reconnection,
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      timeout: this.#timeoutMs,
    });
  }

  get connected(): boolean {
    return this.#socket.connected;
  }

  /** True while Socket.IO itself is trying to (re)connect. */
  get active(): boolean {
    return this.#socket.active;
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
        if (this.#socket.active) return; // Socket.IO retries by itself
        this.#socket.off('connect', onConnect);
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

  request<E extends RequestName>(event: E, payload: RequestOf<E>, timeoutMs = this.#timeoutMs): Promise<ReplyOf<E>> {
    if (!this.#socket.connected) return Promise.reject(new RequestError(event, 'disconnected', 'not connected to the server'));
    // Socket.IO's typings cannot follow a generic event name to its ack; the event map above is what binds them.
    const emitter = this.#socket.timeout(timeoutMs) as unknown as UntypedEmitter;
    return new Promise((resolve, reject) => {
      emitter.emit(event, payload, (error, reply) => {
        if (error) return reject(new RequestError(event, this.#socket.connected ? 'timeout' : 'disconnected', `${event}: no answer from the server`));
        if (isErrorReply(reply)) return reject(new RequestError(event, reply.code ?? 'internal', reply.error));
        resolve(reply as ReplyOf<E>);
      });
    });
  }
}

function isErrorReply(reply: unknown): reply is { error: string; code?: ErrorCode } {
  return typeof reply === 'object' && reply !== null && typeof (reply as { error?: unknown }).error === 'string';
}
