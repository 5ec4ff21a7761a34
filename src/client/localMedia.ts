/** Getting camera and microphone, with the fallbacks a real call needs. */
export interface LocalTracks {
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
  /** A sentence for the user when something was not available, else null. */
  problem: string | null;
  /** Join with the microphone muted (its producer paused). */
  muted?: boolean;
}

export const VIDEO_CONSTRAINTS: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
const AUDIO_CONSTRAINTS: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export function mediaDevicesAvailable(): boolean {
  return typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getUserMedia;
}

const isBlocked = (error: unknown) => ['NotAllowedError', 'SecurityError'].includes((error as DOMException)?.name);

function describe(error: unknown, what: string): string {
  const name = (error as DOMException)?.name;
  if (isBlocked(error)) return `Access to your ${what} was blocked. You can allow it in the browser's address bar (the camera icon or the padlock), then reload the page.`;
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return `No ${what} was found. Check that it is plugged in and switched on.`;
  if (name === 'NotReadableError' || name === 'AbortError') return `Your ${what} is in use by another application. Close the app or browser tab that uses it, then try again.`;
  return `Your ${what} could not be started. Try again, or pick another device.`;
}

/** Constraints for one device: `exact` when the person picked it just now, `ideal` for a remembered pick (it may be gone). */
export function deviceConstraints(kind: 'audio' | 'video', deviceId: string | null | undefined, exact = false): MediaTrackConstraints {
  const base = kind === 'audio' ? AUDIO_CONSTRAINTS : VIDEO_CONSTRAINTS;
  return deviceId ? { ...base, deviceId: exact ? { exact: deviceId } : { ideal: deviceId } } : base;
}

/** Which devices the page starts with (remembered choices); `camera: false` leaves the camera off. */
export interface DeviceWish {
  micId?: string | null;
  cameraId?: string | null;
  camera?: boolean;
}

async function one(constraints: MediaStreamConstraints): Promise<{ track: MediaStreamTrack | null; error: unknown }> {
  try {
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    return { track: stream.getTracks()[0] ?? null, error: null };
  } catch (error) {
    return { track: null, error };
  }
}

/** Camera and microphone together; if that fails, each on its own, so the call goes on with what works. */
export async function acquireLocalTracks(wish: DeviceWish = {}): Promise<LocalTracks> {
  if (!mediaDevicesAvailable()) return { audio: null, video: null, problem: null };
  const audioConstraints = deviceConstraints('audio', wish.micId);
  const videoConstraints = wish.camera === false ? false : deviceConstraints('video', wish.cameraId);
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: audioConstraints, video: videoConstraints });
    return { audio: stream.getAudioTracks()[0] ?? null, video: stream.getVideoTracks()[0] ?? null, problem: null };
  } catch {
    if (!videoConstraints) {
      const audio = await one({ audio: audioConstraints });
      return { audio: audio.track, video: null, problem: audio.track ? null : describe(audio.error, 'microphone') };
    }
    const [audio, video] = await Promise.all([one({ audio: audioConstraints }), one({ video: videoConstraints })]);
    const problems = [];
    // Both blocked (the usual case: one "Block" click) reads better as one sentence than two near-copies.
    if (!audio.track && !video.track && isBlocked(audio.error) && isBlocked(video.error)) {
      problems.push(describe(video.error, 'camera and microphone'));
    } else {
      if (!audio.track) problems.push(describe(audio.error, 'microphone'));
      if (!video.track) problems.push(describe(video.error, 'camera'));
    }
    const mode = audio.track && !video.track ? ' The others will hear you but not see you.' : !audio.track && !video.track ? ' You can still watch and listen.' : '';
    return { audio: audio.track, video: video.track, problem: problems.join(' ') + mode };
  }
}

export async function acquireCamera(): Promise<MediaStreamTrack> {
  return openDevice('video', null);
}

/** One camera or microphone; with `exact`, that device or an error (no silent swap for another). */
export async function openDevice(kind: 'audio' | 'video', deviceId: string | null | undefined, exact = false): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia({ [kind]: deviceConstraints(kind, deviceId, exact) });
  const track = stream.getTracks()[0];
  if (!track) throw new DOMException(`no ${kind} track`, 'NotFoundError');
  return track;
}

export { describe as describeMediaError };
