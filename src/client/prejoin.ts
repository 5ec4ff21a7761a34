import type { DeviceChoices } from './devices.ts';
import { acquireLocalTracks, describeMediaError, openDevice, type LocalTracks } from './localMedia.ts';

type Kind = 'audio' | 'video';
const WHAT: Record<Kind, string> = { audio: 'microphone', video: 'camera' };

/** Opens `id` exactly; a device that is busy (often: our own other track of it, on phones) is retried once with `release` called first. */
export async function openExact(kind: Kind, id: string, release: () => void): Promise<MediaStreamTrack> {
  try {
    return await openDevice(kind, id, true);
  } catch (error) {
    if ((error as DOMException)?.name !== 'NotReadableError') throw error;
    release();
    return openDevice(kind, id, true);
  }
}

/**
 * Camera and microphone on the pre-join screen: taken as the page opens (with the remembered
 * choices), swapped when another device is picked, the camera released while "Join with camera off"
 * is ticked. Steps run one at a time; the call gets the tracks as they are once the last step is done.
 */
export class PrejoinMedia {
  audio: MediaStreamTrack | null = null;
  video: MediaStreamTrack | null = null;
  /** A sentence for the person when a device could not be had, else null. */
  problem: string | null = null;
  /** True until the first attempt is done. */
  starting = true;
  /** False once the call has the tracks (its own code then handles an unplugged device). */
  active = true;
  readonly #changed: () => void;
  #queue: Promise<void> = Promise.resolve();

  /** `changed` runs after every step (the page redraws the preview and the meter). */
  constructor(changed: () => void) {
    this.#changed = changed;
  }

  start(choices: DeviceChoices): Promise<void> {
    return this.#run(async () => {
      const tracks = await acquireLocalTracks({ micId: choices.micId, cameraId: choices.cameraId, camera: !choices.cameraOff });
      this.#set('audio', tracks.audio);
      this.#set('video', tracks.video);
      this.problem = tracks.problem;
      this.starting = false;
    });
  }

  /** The person picked another camera or microphone. */
  pick(kind: Kind, id: string, choices: DeviceChoices): Promise<void> {
    return this.#run(async () => {
      if (kind === 'video' && choices.cameraOff) return;
      try {
        const track = await openExact(kind, id, () => this.#set(kind, null));
        this.#set(kind, track);
        this.#settle(choices);
      } catch (error) {
        this.problem = describeMediaError(error, WHAT[kind]);
      }
    });
  }

  /** "Join with camera off" changed: the camera is released, or taken again. */
  setCameraOff(choices: DeviceChoices): Promise<void> {
    return this.#run(async () => {
      if (choices.cameraOff) {
        this.#set('video', null);
        this.#settle(choices);
        return;
      }
      if (this.video) return;
      try {
        this.#set('video', await openDevice('video', choices.cameraId));
        this.#settle(choices);
      } catch (error) {
        this.problem = describeMediaError(error, 'camera');
      }
    });
  }

  /** What the call starts with, once pending steps are done: the final choices decide. */
  tracks(choices: DeviceChoices): Promise<LocalTracks> {
    return this.#queue.then(() => {
      if (choices.cameraOff) this.#set('video', null);
      // A failed pick that left the old device in place is no news for the call.
      const missing = !this.audio || (!this.video && !choices.cameraOff);
      return { audio: this.audio, video: this.video, problem: missing ? this.problem : null, muted: choices.muted };
    });
  }

  #run(step: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(step).catch(() => {}).then(() => this.#changed());
    this.#queue = next;
    return next;
  }

  /** Replaces a track (the old one stops); a replacement that ends by itself (unplugged) falls back to the default device. */
  #set(kind: Kind, track: MediaStreamTrack | null): void {
    const old = kind === 'audio' ? this.audio : this.video;
    if (old && old !== track) old.stop();
    if (kind === 'audio') this.audio = track;
    else this.video = track;
    track?.addEventListener('ended', () => void this.#lost(kind, track), { once: true });
  }

  #lost(kind: Kind, track: MediaStreamTrack): Promise<void> {
    return this.#run(async () => {
      if (!this.active || (kind === 'audio' ? this.audio : this.video) !== track) return;
      this.#set(kind, null);
      try {
        this.#set(kind, await openDevice(kind, null));
      } catch (error) {
        this.problem = describeMediaError(error, WHAT[kind]);
      }
    });
  }

  /** A step worked: the old problem is gone once both devices are fine. */
  #settle(choices: DeviceChoices): void {
    if (this.audio && (this.video || choices.cameraOff)) this.problem = null;
  }
}
