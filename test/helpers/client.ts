import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import { SignalingClient, type ClientSocket } from '../../src/client/SignalingClient.ts';
import type { ErrorCode, ErrorReply, ReplyOf, RequestName, RequestOf, ServerToClientEvents } from '../../src/signaling/protocol.ts';

export type TestSocket = ClientSocket;

export interface TestClient {
  socket: TestSocket;
  userId: string;
  /** Sends a request and resolves with its ack (result or {error, code}); fails if no ack comes. */
  request<E extends RequestName>(event: E, payload: RequestOf<E>): Promise<ReplyOf<E> | ErrorReply>;
  /** Like request, but throws on an error ack. */
  ok<E extends RequestName>(event: E, payload: RequestOf<E>): Promise<ReplyOf<E>>;
  /** Events of one kind received so far. */
  received<K extends keyof ServerToClientEvents>(event: K): Parameters<ServerToClientEvents[K]>[0][];
  close(): void;
}

let counter = 0;

/** A joinRoom reply that seated the caller (not one that left it waiting in the lobby). */
export function seated(reply: ReplyOf<'joinRoom'>): Extract<ReplyOf<'joinRoom'>, { participants: unknown }> {
  if ('lobby' in reply) throw new Error('joinRoom: waiting in the lobby, not seated');
  return reply;
}

/** The error code of an ack, or undefined for a result. */
export const codeOf = (reply: unknown): ErrorCode | undefined =>
  reply && typeof reply === 'object' && 'code' in reply && 'error' in reply ? (reply as ErrorReply).code : undefined;

export async function connectClient(
  url: string,
  userId = `u${++counter}-${Math.random().toString(36).slice(2, 8)}`,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<TestClient> {
  // The browser's own signaling client, pointed at the test server.
  const client = new SignalingClient({ url, reconnection: false, socketOptions: { transports: ['websocket'], ...options } });
  const socket = client.socket;
  const log = new Map<string, unknown[]>();
  socket.onAny((event: string, payload: unknown) => {
    if (!log.has(event)) log.set(event, []);
    log.get(event)!.push(payload);
  });
  client.connect();
  await client.whenConnected();
  const request = <E extends RequestName>(event: E, payload: RequestOf<E>) => client.ack(event, payload);
  return {
    socket,
    userId,
    request,
    async ok(event, payload) {
      const reply = await request(event, payload);
      if (reply && typeof reply === 'object' && 'error' in reply) throw new Error(`${event}: ${String(reply.error)}`);
      return reply as never;
    },
    received: (event) => (log.get(event) ?? []) as never,
    close: () => socket.close(),
  };
}
