import type { Socket } from 'socket.io';
import type { Logger } from '../log.ts';
import type { Peer } from '../rooms/Peer.ts';
import type { Services } from '../services.ts';
import type { ClientToServerEvents, ReplyOf, RequestName, ServerToClientEvents } from './protocol.ts';
import type { ValidRequest } from './schemas.ts';
import type { Session } from './Session.ts';

export type ParleySocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** Everything a request handler may use: the server's services and this one socket's state. */
export interface RequestContext {
  readonly services: Services;
  readonly session: Session;
  readonly socket: ParleySocket;
  /** The client's address (see ClientResolver). */
  readonly clientIp: string;
  /** The machine itself on a test server that opted in: no per-address caps. */
  readonly exempt: boolean;
  /** This socket's seat slot among its address's (MAX_SEATS_PER_ADDRESS) while it holds a seat; released at leave. */
  seat: (() => void) | undefined;
  /** This socket's logger outside a room… */
  readonly socketLog: Logger;
  /** …and the one to use now: while in a room it also carries roomId and userId. */
  log: Logger;
  /** Unbinds and disconnects the socket that holds `peer` (its seat was reclaimed). */
  evict(peer: Peer): void;
}

export type Handler<E extends RequestName> = (ctx: RequestContext, request: ValidRequest<E>) => Promise<ReplyOf<E>>;
export type Handlers<E extends RequestName = RequestName> = { [K in E]: Handler<K> };
