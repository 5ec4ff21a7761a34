import crypto from 'node:crypto';
import type { Logger } from '../log.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { followCalls } from './callEvents.ts';

export type WebhookEventName = 'room_started' | 'room_finished' | 'participant_joined' | 'participant_left';

/** The JSON body of one delivery. `id` is the same on every retry of it: receivers dedupe by it. */
export interface WebhookEvent {
  event: WebhookEventName;
  roomId: string;
  userId?: string;
  /** When it happened, ISO 8601. */
  at: string;
  id: string;
}

export const SIGNATURE_HEADER = 'x-parley-signature';
export const TIMESTAMP_HEADER = 'x-parley-timestamp';

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`): what X-Parley-Signature carries. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * The receiver's side, as the README describes it: the signature matches (compared in constant time)
 * and the timestamp is recent (a captured delivery cannot be replayed later).
 */
export function verifyWebhook(secret: string, headers: { timestamp: string | undefined; signature: string | undefined }, body: string, toleranceS = 300, nowMs = Date.now()): boolean {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}

export interface WebhookOptions {
  url: string;
  secret: string;
  log: Logger;
  /** Deliveries waiting at most; beyond it new events are dropped (and logged). */
  maxQueue?: number;
  /** Tries per delivery before it is given up. */
  maxAttempts?: number;
  /** First retry after this long, doubling each time (with jitter), up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** One request's time limit. */
  timeoutMs?: number;
}

/**
 * Tells an integrator's endpoint what happens in calls. Events are queued (bounded) and delivered one
 * at a time in the order they happened; a failed delivery (network error, timeout, non-2xx reply) is
 * retried with exponential back-off, and given up after maxAttempts. Nothing here is awaited by a
 * call: enqueueing is synchronous and never throws.
 */
export class Webhooks {
  readonly #options: Required<Omit<WebhookOptions, 'log'>>;
  readonly #log: Logger;
  readonly #queue: WebhookEvent[] = [];
  #running = false;
  #draining: Promise<void> = Promise.resolve();
  #closed = false;
  #wake: (() => void) | undefined;
  #inFlight: AbortController | undefined;
  /** Counters for tests and logs. */
  readonly stats = { delivered: 0, failed: 0, dropped: 0, retried: 0 };

  constructor(options: WebhookOptions) {
    const { log: _log, ...rest } = options;
    this.#options = { maxQueue: 1000, maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 60_000, timeoutMs: 5000, ...stripUndefined(rest), url: options.url, secret: options.secret };
    this.#log = options.log.child({ component: 'webhooks' });
  }

  /** Subscribes to the registry's rooms (call rooms only). */
  follow(registry: RoomRegistry): this {
    followCalls(registry, {
      roomStarted: (room) => this.enqueue('room_started', room.id),
      participantJoined: (room, peer) => this.enqueue('participant_joined', room.id, peer.userId),
      participantLeft: (room, peer) => this.enqueue('participant_left', room.id, peer.userId),
      roomFinished: (room) => this.enqueue('room_finished', room.id),
    });
    return this;
  }

  get pending(): number {
    return this.#queue.length;
  }

  enqueue(event: WebhookEventName, roomId: string, userId?: string): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#options.maxQueue) {
      this.stats.dropped++;
      this.#log.warn({ event, roomId, queued: this.#queue.length }, 'webhook queue full, event dropped');
      return;
    }
    this.#queue.push({ event, roomId, ...(userId === undefined ? {} : { userId }), at: new Date().toISOString(), id: crypto.randomUUID() });
    if (!this.#running) this.#draining = this.#drain();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const event = this.#queue[0]!;
        await this.#deliver(event);
        this.#queue.shift();
      }
    } finally {
      this.#running = false;
    }
  }

  async #deliver(event: WebhookEvent): Promise<void> {
    const body = JSON.stringify(event);
    const { maxAttempts, baseDelayMs, maxDelayMs } = this.#options;
    for (let attempt = 1; attempt <= maxAttempts && !this.#closed; attempt++) {
      const problem = await this.#post(body);
      if (problem === undefined) {
        this.stats.delivered++;
        return;
      }
      if (attempt === maxAttempts) break;
      this.stats.retried++;
      const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
      this.#log.debug({ event: event.event, id: event.id, attempt, problem, retryInMs: Math.round(delay) }, 'webhook delivery failed, retrying');
      await this.#sleep(delay);
    }
    if (this.#closed) return;
    this.stats.failed++;
    this.#log.warn({ event: event.event, id: event.id, roomId: event.roomId, attempts: maxAttempts }, 'webhook delivery given up');
  }

  /** undefined when delivered, else what went wrong. */
  async #post(body: string): Promise<string | undefined> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const abort = new AbortController();
    this.#inFlight = abort;
    const timer = setTimeout(() => abort.abort(), this.#options.timeoutMs);
    try {
      const res = await fetch(this.#options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Parley-Webhooks/1', [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signWebhook(this.#options.secret, timestamp, body) },
        body,
        redirect: 'manual',
        signal: abort.signal,
      });
      await res.body?.cancel().catch(() => {});
      return res.ok ? undefined : `HTTP ${res.status}`;
    } catch (error) {
      return abort.signal.aborted ? 'timeout' : (error as Error).message;
    } finally {
      clearTimeout(timer);
      this.#inFlight = undefined;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    }).finally(() => (this.#wake = undefined));
  }

  /**
   * Stops delivering, after up to `flushMs` for what is queued (the room_finished of a shutdown):
   * what is left then is dropped, so a restart never waits on a slow endpoint.
   */
  async close(flushMs = 2000): Promise<void> {
    if (this.#closed) return;
    if (this.#queue.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#draining, new Promise<void>((resolve) => (timer = setTimeout(resolve, flushMs)))]);
      clearTimeout(timer);
    }
    this.#closed = true;
    this.#inFlight?.abort();
    this.#wake?.();
    if (this.#queue.length > 0) this.#log.info({ dropped: this.#queue.length }, 'webhooks not delivered at shutdown');
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
