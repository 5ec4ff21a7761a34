import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';

/** How often the worker re-ranks speakers (its dominant-speaker algorithm smooths on its own). */
const SPEAKER_INTERVAL_MS = 300;

/**
 * Who speaks in one room: on each of the room's routers, mediasoup's ActiveSpeakerObserver ranks
 * that router's microphones (paused ones drop out) and names the dominant one; the latest one named
 * on any router is the room's. Emits `speaker` with its owner's userId, or null while there is none
 * (nobody has spoken yet, or the dominant microphone was muted or closed and nobody else has taken
 * over), each time that answer changes. An observer closes with its router.
 */
export class SpeakerDetector extends EventEmitter<{ speaker: [string | null] }> {
  readonly #observers = new Map<types.Router, types.ActiveSpeakerObserver>();
  readonly #microphones = new Map<string, { producer: types.Producer; userId: string }>();
  #dominant: string | undefined;
  #current: string | null = null;
  #closed = false;

  static async create(router: types.Router): Promise<SpeakerDetector> {
    const detector = new SpeakerDetector();
    await detector.addRouter(router);
    return detector;
  }

  /** Listens on one more of the room's routers (a room that spans workers has one on each). */
  async addRouter(router: types.Router): Promise<void> {
    const observer = await router.createActiveSpeakerObserver({ interval: SPEAKER_INTERVAL_MS });
    if (this.#closed) return observer.close();
    this.#observers.set(router, observer);
    observer.observer.once('close', () => this.#observers.delete(router));
    observer.on('dominantspeaker', ({ producer }) => {
      this.#dominant = producer.id;
      this.#update();
    });
  }

  /** The one speaking now, or null. */
  get speaker(): string | null {
    return this.#current;
  }

  /** Listens to a microphone on `router` (by default the first one). */
  async add(producer: types.Producer, userId: string, router?: types.Router): Promise<void> {
    const observer = router ? this.#observers.get(router) : this.#observers.values().next().value;
    if (producer.kind !== 'audio' || !observer || observer.closed) return;
    this.#microphones.set(producer.id, { producer, userId });
    const update = () => this.#update();
    producer.observer.on('pause', update);
    producer.observer.on('resume', update);
    producer.observer.once('close', () => {
      this.#microphones.delete(producer.id);
      this.#update();
    });
    try {
      await observer.addProducer({ producerId: producer.id });
    } catch {
      // The producer or the router closed meanwhile: nothing to listen to.
    }
  }

  #update(): void {
    const microphone = this.#dominant === undefined ? undefined : this.#microphones.get(this.#dominant);
    const speaker = microphone && !microphone.producer.paused ? microphone.userId : null;
    if (speaker === this.#current) return;
    this.#current = speaker;
    this.emit('speaker', speaker);
  }

  close(): void {
    this.#closed = true;
    for (const observer of this.#observers.values()) observer.close();
    this.#observers.clear();
    this.#microphones.clear();
    this.removeAllListeners();
  }
}
