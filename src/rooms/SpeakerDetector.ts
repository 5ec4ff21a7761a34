import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';

/** How often the worker re-ranks speakers (its dominant-speaker algorithm smooths on its own). */
const SPEAKER_INTERVAL_MS = 300;

/**
 * Who speaks in one room: mediasoup's ActiveSpeakerObserver ranks the microphones (paused ones drop
 * out) and names the dominant one. Emits `speaker` with its owner's userId, or null while there is
 * none (nobody has spoken yet, or the dominant microphone was muted or closed and nobody else has
 * taken over), each time that answer changes. Closes with its router.
 */
export class SpeakerDetector extends EventEmitter<{ speaker: [string | null] }> {
  readonly #observer: types.ActiveSpeakerObserver;
  readonly #microphones = new Map<string, { producer: types.Producer; userId: string }>();
  #dominant: string | undefined;
  #current: string | null = null;

  static async create(router: types.Router): Promise<SpeakerDetector> {
    return new SpeakerDetector(await router.createActiveSpeakerObserver({ interval: SPEAKER_INTERVAL_MS }));
  }

  private constructor(observer: types.ActiveSpeakerObserver) {
    super();
    this.#observer = observer;
    observer.on('dominantspeaker', ({ producer }) => {
      this.#dominant = producer.id;
      this.#update();
    });
  }

  /** The one speaking now, or null. */
  get speaker(): string | null {
    return this.#current;
  }

  /** Listens to a microphone. */
  async add(producer: types.Producer, userId: string): Promise<void> {
    if (producer.kind !== 'audio' || this.#observer.closed) return;
    this.#microphones.set(producer.id, { producer, userId });
    const update = () => this.#update();
    producer.observer.on('pause', update);
    producer.observer.on('resume', update);
    producer.observer.once('close', () => {
      this.#microphones.delete(producer.id);
      this.#update();
    });
    try {
      await this.#observer.addProducer({ producerId: producer.id });
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
    this.#observer.close();
    this.#microphones.clear();
    this.removeAllListeners();
  }
}
