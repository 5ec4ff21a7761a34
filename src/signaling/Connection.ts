import type { TokenVerifier } from '../auth/tokens.ts';
import type { Logger } from '../log.ts';
import type { Peer } from '../rooms/Peer.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { RoomStateStore } from '../store/RoomStateStore.ts';
import { ProtocolError, UserError } from './errors.ts';
import type { RateLimits } from './rateLimits.ts';
import { handlers, leave, type HandlerContext, type ParleySocket } from './handlers.ts';
import { REQUEST_NAMES, type ErrorReply, type RequestName } from './protocol.ts';
import { describeIssues, requestSchemas } from './schemas.ts';
import { Session } from './Session.ts';

const KNOWN = new Set<string>(REQUEST_NAMES);

export interface ConnectionDeps {
  registry: RoomRegistry;
  store: RoomStateStore;
  log: Logger;
  limits: RateLimits;
  tokens: TokenVerifier | undefined;
  /** The client's address (X-Forwarded-For honoured only behind a trusted proxy). */
  clientIp: string;
  /** A loopback client no proxy speaks for: not rate limited. */
  local: boolean;
  probeLifetimeMs: number;
  evict(peer: Peer): void;
  onSignalingError?: (event: string, kind: 'user' | 'internal') => void;
}

/**
 * One socket's signaling: decode, validate, dispatch through one place, answer exactly once.
 * Requests of a socket run one after another, and the disconnect cleanup queues behind them, so a
 * request still in flight can never resurrect state after the socket is gone.
 */
export class Connection {
  readonly #ctx: HandlerContext;
  readonly #deps: ConnectionDeps;
  #queue: Promise<void> = Promise.resolve();
  #gone = false;
  #pending = 0;

  constructor(socket: ParleySocket, deps: ConnectionDeps) {
    this.#deps = deps;
    this.#ctx = {
      session: new Session(socket.id),
      socket,
      registry: deps.registry,
      store: deps.store,
      log: deps.log.child({ socket: socket.id }),
      tokens: deps.tokens,
      clientIp: deps.clientIp,
      probeLifetimeMs: deps.probeLifetimeMs,
      evict: deps.evict,
    };
    socket.onAny((event: unknown, ...args: unknown[]) => this.#onEvent(event, args));
    socket.once('disconnect', (reason) => {
      this.#gone = true;
      this.#ctx.log.debug({ reason }, 'socket disconnected');
      this.#enqueue(() => leave(this.#ctx));
    });
  }

  get session(): Session {
    return this.#ctx.session;
  }

  /** Server-side unbinding when the room went away under the peer (worker died, shutdown). */
  forgetRoom(): void {
    this.#ctx.session.unbind();
  }

  #onEvent(event: unknown, args: unknown[]): void {
    const ack = args.at(-1);
    try {
      if (typeof ack !== 'function') throw new ProtocolError(`event ${String(event).slice(0, 40)} sent without an acknowledgement callback`);
      if (typeof event !== 'string' || !KNOWN.has(event)) {
        once(ack)({ error: `unknown event ${JSON.stringify(String(event).slice(0, 40))}` });
        return;
      }
      if (args.length !== 2) throw new UserError('expected exactly one payload argument');
      this.#dispatch(event as RequestName, args[0], once(ack));
    } catch (error) {
      if (error instanceof UserError && typeof ack === 'function') return void once(ack)({ error: error.message });
      this.#ctx.log.warn({ err: error }, 'protocol error, dropping connection');
      this.#ctx.socket.disconnect(true);
    }
  }

  #dispatch(event: RequestName, payload: unknown, reply: (r: object) => void): void {
    // Bounded backlog: a client that does not wait for its answers gets errors, not memory.
    if (this.#pending >= MAX_PENDING) return reply({ error: 'too many requests in flight, slow down' });
    const shapeProblem = plainDataProblem(payload);
    if (shapeProblem) {
      this.#deps.onSignalingError?.(event, 'user');
      return reply({ error: shapeProblem });
    }
    const parsed = requestSchemas[event].safeParse(payload);
    if (!parsed.success) {
      this.#deps.onSignalingError?.(event, 'user');
      reply({ error: describeIssues(parsed.error) } satisfies ErrorReply);
      return;
    }
    this.#pending++;
    this.#enqueue(async () => {
      this.#pending--;
      if (this.#gone) return reply({ error: 'disconnected' });
      try {
        await this.#checkRate(event);
        const handler = handlers[event] as (ctx: HandlerContext, request: unknown) => Promise<object>;
        reply(await handler(this.#ctx, parsed.data));
      } catch (error) {
        if (error instanceof UserError) {
          this.#deps.onSignalingError?.(event, 'user');
          reply({ error: error.message });
        } else {
          this.#deps.onSignalingError?.(event, 'internal');
          this.#ctx.log.error({ err: error, event }, 'request failed');
          reply({ error: `${event} failed on the server` });
        }
      }
    });
  }

  async #checkRate(event: RequestName): Promise<void> {
    const { limits, clientIp, local } = this.#deps;
    // Budgets guard against the internet, not the machine itself (see isLocalRequest).
    if (local) return;
    const perIp = event === 'joinRoom' ? 'joinsPerIp' : event === 'joinProbe' ? 'probesPerIp' : undefined;
    const ok = (await limits.take('requestsPerSocket', this.#ctx.socket.id)) && (perIp === undefined || (await limits.take(perIp, clientIp)));
    if (!ok) throw new UserError('rate limited: too many requests, slow down');
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((error) => this.#ctx.log.error({ err: error }, 'queued task failed'));
  }
}

const MAX_DEPTH = 16;
const MAX_PENDING = 64;

/**
 * Payloads are JSON-shaped data: plain objects, arrays and scalars, not too deep. Socket.IO can also
 * deliver binary attachments (Buffers), which no request uses and which schemas would treat as objects.
 */
function plainDataProblem(value: unknown, depth = 0): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_DEPTH) return `payload is nested more than ${MAX_DEPTH} levels deep`;
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return 'payload must be plain JSON data (no binary attachments)';
  for (const child of Object.values(value)) {
    const problem = plainDataProblem(child, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

/** An acknowledgement that can be called once; later calls are ignored. */
function once(ack: Function): (reply: object) => void {
  let done = false;
  return (reply) => {
    if (done) return;
    done = true;
    ack(reply);
  };
}
