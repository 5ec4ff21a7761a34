import { randomUUID } from 'node:crypto';
import type { Peer } from '../rooms/Peer.ts';
import type { Services } from '../services.ts';
import type { ParleySocket, RequestContext } from './context.ts';
import { ProtocolError, UserError } from './errors.ts';
import { handlers, leave } from './handlers.ts';
import { REQUEST_NAMES, type ErrorReply, type RequestName } from './protocol.ts';
import { jobOf, RequestScheduler } from './RequestScheduler.ts';
import { describeIssues, requestSchemas } from './schemas.ts';
import { Session } from './Session.ts';

const KNOWN = new Set<string>(REQUEST_NAMES);
/** Requests of one socket accepted and not yet answered: a client that does not wait gets errors, not memory. */
const MAX_PENDING = 64;
const MAX_DEPTH = 16;
/** A socket that sends more invalid requests (bad payload, unknown event) than this in one budget window is dropped. */
export const MAX_INVALID_PER_WINDOW = 20;
const WINDOW_MS = 5000;

export interface ClientInfo {
  /** The client's address (see ClientResolver). */
  ip: string;
  /** The machine itself, when a test server opted in: no per-address or per-socket budgets. */
  exempt: boolean;
}

/** A fixed-window counter, in memory and synchronous: charged the moment a frame arrives. */
class WindowBudget {
  readonly #points: number;
  #windowStart = 0;
  #used = 0;

  constructor(points: number) {
    this.#points = points;
  }

  /** False when the window's points are spent (0 points: never). */
  take(): boolean {
    if (this.#points === 0) return true;
    const now = Date.now();
    if (now - this.#windowStart >= WINDOW_MS) {
      this.#windowStart = now;
      this.#used = 0;
    }
    return ++this.#used <= this.#points;
  }
}

type Reply = (reply: object) => void;

/**
 * One socket's signaling: decode, validate, schedule, dispatch through one place, answer exactly
 * once. Independent requests run concurrently (RequestScheduler says which wait for which); the
 * cleanup at disconnect waits for everything in flight, so nothing can resurrect after the socket is gone.
 */
export class Connection {
  readonly #ctx: RequestContext;
  readonly #services: Services;
  readonly #client: ClientInfo;
  readonly #scheduler = new RequestScheduler();
  /** RATE_REQUESTS_PER_5S, and the stricter allowance of invalid requests within it. */
  readonly #requests: WindowBudget;
  readonly #invalid: WindowBudget;
  #gone = false;

  constructor(socket: ParleySocket, services: Services, client: ClientInfo, evict: (peer: Peer) => void) {
    this.#services = services;
    this.#client = client;
    const socketLog = services.log.child({ component: 'signaling', socket: socket.id });
    const perSocket = client.exempt ? 0 : services.config.rateLimits.requestsPer5s;
    this.#requests = new WindowBudget(perSocket);
    this.#invalid = new WindowBudget(perSocket === 0 ? 0 : MAX_INVALID_PER_WINDOW);
    this.#ctx = { services, session: new Session(), socket, clientIp: client.ip, exempt: client.exempt, seat: undefined, socketLog, log: socketLog, evict };
    socket.onAny((event: unknown, ...args: unknown[]) => this.#onEvent(event, args));
    socket.once('disconnect', (reason) => {
      this.#gone = true;
      this.#ctx.log.debug({ reason }, 'socket disconnected');
      void this.#scheduler.run(jobOf('disconnect'), async () => leave(this.#ctx));
    });
  }

  get session(): Session {
    return this.#ctx.session;
  }

  /** Server-side unbinding when the seat was taken over by another connection. */
  forgetRoom(): void {
    this.#ctx.session.unbind();
    this.#ctx.seat?.();
    this.#ctx.seat = undefined;
    this.#ctx.log = this.#ctx.socketLog;
  }

  #onEvent(event: unknown, args: unknown[]): void {
    const ack = args.at(-1);
    try {
      if (typeof ack !== 'function') throw new ProtocolError(`event ${String(event).slice(0, 40)} sent without an acknowledgement callback`);
      const reply = once(ack);
      // Charged before the frame is looked at: a flood of garbage costs its sender, not the server.
      if (!this.#requests.take()) return reply(refusal(new UserError('rate_limited', 'rate limited: too many requests, slow down')));
      if (typeof event !== 'string' || !KNOWN.has(event)) return this.#refuseInvalid(reply, new UserError('unknown_request', `unknown event ${JSON.stringify(String(event).slice(0, 40))}`));
      if (args.length !== 2) return this.#refuseInvalid(reply, new UserError('invalid_payload', 'expected exactly one payload argument'));
      this.#dispatch(event as RequestName, args[0], reply);
    } catch (error) {
      this.#ctx.log.warn({ err: error }, 'protocol error, dropping connection');
      this.#ctx.socket.disconnect(true);
    }
  }

  /** An invalid request is answered, unless the socket keeps sending them: then it is dropped. */
  #refuseInvalid(reply: Reply, error: UserError): void {
    if (!this.#invalid.take()) throw new ProtocolError(`more than ${MAX_INVALID_PER_WINDOW} invalid requests in ${WINDOW_MS / 1000} s`);
    reply(refusal(error));
  }

  #dispatch(event: RequestName, payload: unknown, reply: Reply): void {
    const refuse = (error: UserError) => {
      this.#services.metrics.signalingErrors.inc({ event, kind: 'user' });
      this.#ctx.log.debug({ event, code: error.code, reason: error.message }, 'request refused');
      reply(refusal(error));
    };
    const invalid = (message: string) => {
      this.#services.metrics.signalingErrors.inc({ event, kind: 'user' });
      this.#refuseInvalid(reply, new UserError('invalid_payload', message));
    };
    if (this.#scheduler.size >= MAX_PENDING) return refuse(new UserError('rate_limited', 'too many requests in flight, slow down'));
    const shapeProblem = plainDataProblem(payload);
    if (shapeProblem) return invalid(shapeProblem);
    const parsed = requestSchemas[event].safeParse(payload);
    if (!parsed.success) return invalid(describeIssues(parsed.error));
    void this.#scheduler.run(jobOf(event, parsed.data as Record<string, unknown>), async () => {
      try {
        if (this.#gone) throw new UserError('unavailable', 'disconnected');
        await this.#checkRate(event);
        const handler = handlers[event] as (ctx: RequestContext, request: unknown) => Promise<object>;
        reply(await handler(this.#ctx, parsed.data));
      } catch (error) {
        if (error instanceof UserError) return refuse(error);
        this.#services.metrics.signalingErrors.inc({ event, kind: 'internal' });
        // The same id in the reply and the log line: a user's report leads straight to the stack trace.
        const requestId = randomUUID();
        this.#ctx.log.error({ err: error, event, request_id: requestId }, 'request failed');
        reply({ error: `${event} failed on the server (request id ${requestId})`, code: 'internal' } satisfies ErrorReply);
      }
    });
  }

  /** Per-address budgets of the requests that cost the most (the per-socket one was charged on arrival). */
  async #checkRate(event: RequestName): Promise<void> {
    const perIp = event === 'joinRoom' ? 'joinsPerIp' : event === 'joinProbe' ? 'probesPerIp' : undefined;
    if (this.#client.exempt || perIp === undefined) return;
    if (!(await this.#services.limits.take(perIp, this.#client.ip))) throw new UserError('rate_limited', 'rate limited: too many requests, slow down');
  }
}

function refusal(error: UserError): ErrorReply {
  return { error: error.message, code: error.code };
}

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
function once(ack: Function): Reply {
  let done = false;
  return (reply) => {
    if (done) return;
    done = true;
    ack(reply);
  };
}
