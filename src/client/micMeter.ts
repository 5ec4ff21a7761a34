/** The microphone level on the pre-join screen: an AnalyserNode on the mic track, read ten times a second. */

const FLOOR_DB = -60; // quieter than this shows as empty
const CEILING_DB = -10; // loud speech close to the mic fills the bar
const DECAY = 0.8; // a peak falls back over a few reads instead of flickering

/** The level (0–100) of one block of samples, from its RMS in dBFS. */
export function levelOf(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  const rms = samples.length ? Math.sqrt(sum / samples.length) : 0;
  if (rms <= 0) return 0;
  const db = 20 * Math.log10(rms);
  return Math.round(Math.min(100, Math.max(0, ((db - FLOOR_DB) / (CEILING_DB - FLOOR_DB)) * 100)));
}

/** What the meter shows next: a new peak at once, otherwise a gentle fall from the last value. */
export function smoothLevel(previous: number, measured: number): number {
  return Math.round(Math.max(measured, previous * DECAY));
}

export class MicMeter {
  readonly #element: HTMLElement;
  #context: AudioContext | undefined;
  #source: MediaStreamAudioSourceNode | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #track: MediaStreamTrack | null = null;
  #level = 0;

  /** `element` has role="meter": its aria-valuenow and its --level custom property are kept up to date. */
  constructor(element: HTMLElement) {
    this.#element = element;
  }

  /** Measures `track` (null: nothing, the meter shows empty). */
  attach(track: MediaStreamTrack | null): void {
    if (track === this.#track && this.#timer !== undefined) return;
    this.#detach();
    this.#track = track;
    if (!track || typeof AudioContext === 'undefined') return;
    const context = (this.#context ??= new AudioContext());
    // A context made before any click may start suspended (autoplay rules): the first click or key wakes it.
    if (context.state === 'suspended') {
      void context.resume().catch(() => {});
      const wake = () => void context.resume().catch(() => {});
      document.addEventListener('pointerdown', wake, { once: true });
      document.addEventListener('keydown', wake, { once: true });
    }
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    const samples = new Float32Array(analyser.fftSize);
    this.#source = context.createMediaStreamSource(new MediaStream([track]));
    this.#source.connect(analyser);
    this.#timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      this.#show(smoothLevel(this.#level, track.enabled && track.readyState === 'live' ? levelOf(samples) : 0));
    }, 100);
  }

  /** Stops measuring and lets the audio context go (joining the call does this). */
  stop(): void {
    this.#detach();
    void this.#context?.close().catch(() => {});
    this.#context = undefined;
  }

  #detach(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#source?.disconnect();
    this.#source = undefined;
    this.#track = null;
    this.#show(0);
  }

  #show(level: number): void {
    if (level === this.#level && this.#element.getAttribute('aria-valuenow') === String(level)) return;
    this.#level = level;
    this.#element.setAttribute('aria-valuenow', String(level));
    this.#element.style.setProperty('--level', String(level / 100));
  }
}
