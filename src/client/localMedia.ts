/** Getting camera and microphone, with the fallbacks a real call needs. */
export interface LocalTracks {
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
  /** A sentence for the user when something was not available, else null. */
  problem: string | null;
}

export const VIDEO_CONSTRAINTS: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
const AUDIO_CONSTRAINTS: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export function mediaDevicesAvailable(): boolean {
  return typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getUserMedia;
}

const isBlocked = (error: unknown) => ['NotAllowedError', 'SecurityError'].includes((error as DOMException)?.name);

function describe(error: unknown, what: string): string {
  const name = (error as DOMException)?.name;
  if (isBlocked(error)) return `Access to your ${what} was blocked. You can allow it in the browser's address bar.`;
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return `No ${what} was found.`;
  if (name === 'NotReadableError') return `Your ${what} is in use by another application.`;
  return `Your ${what} could not be started.`;
}

async function one(kind: 'audio' | 'video'): Promise<{ track: MediaStreamTrack | null; error: unknown }> {
  try {
    const stream = await navigator.mediaDevices.getUserMedia(kind === 'audio' ? { audio: AUDIO_CONSTRAINTS } : { video: VIDEO_CONSTRAINTS });
    return { track: stream.getTracks()[0] ?? null, error: null };
  } catch (error) {
    return { track: null, error };
  }
}

/** Camera and microphone together; if that fails, each on its own, so the call goes on with what works. */
export async function acquireLocalTracks(): Promise<LocalTracks> {
  if (!mediaDevicesAvailable()) return { audio: null, video: null, problem: null };
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: AUDIO_CONSTRAINTS, video: VIDEO_CONSTRAINTS });
    return { audio: stream.getAudioTracks()[0] ?? null, video: stream.getVideoTracks()[0] ?? null, problem: null };
  } catch {
    const [audio, video] = await Promise.all([one('audio'), one('video')]);
    const problems = [];
    // Both blocked (the usual case: one "Block" click) reads better as one sentence than two near-copies.
    if (!audio.track && !video.track && isBlocked(audio.error) && isBlocked(video.error)) {
      problems.push(describe(video.error, 'camera and microphone'));
    } else {
      if (!audio.track) problems.push(describe(audio.error, 'microphone'));
      if (!video.track) problems.push(describe(video.error, 'camera'));
    }
    const mode = audio.track && !video.track ? ' You are in the call with audio only.' : !audio.track && !video.track ? ' You can still watch and listen.' : '';
    return { audio: audio.track, video: video.track, problem: problems.join(' ') + mode };
  }
}

export async function acquireCamera(): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: VIDEO_CONSTRAINTS });
  return stream.getVideoTracks()[0]!;
}

export { describe as describeMediaError };
