import { NOTICES } from './callView.ts';
import { acquireCamera, describeMediaError, type LocalTracks } from './localMedia.ts';
import type { MediaSession, Source } from './MediaSession.ts';
import { addNotice, clearNotice, updateParticipantTracks, upsertParticipant, type RoomState } from './roomStore.ts';

/**
 * Our own microphone, camera and screen: the tracks (kept across rejoins), the buttons that turn them
 * on and off, and sending them through whichever media session is live.
 */
export class LocalControls {
  readonly #state: RoomState;
  readonly #session: () => MediaSession | undefined;
  readonly #tracks: Record<Source, MediaStreamTrack | null> = { mic: null, camera: null, screen: null };
  /** Where the Camera button gets a camera from (the page points it at the chosen device). */
  openCamera: () => Promise<MediaStreamTrack> = acquireCamera;
  /** The microphone or camera track ended by itself (device unplugged): the page picks another. */
  onTrackEnded: ((source: 'mic' | 'camera', track: MediaStreamTrack) => void) | undefined;
  readonly #watched = new WeakSet<MediaStreamTrack>();

  constructor(state: RoomState, session: () => MediaSession | undefined) {
    this.#state = state;
    this.#session = session;
  }

  /** The tracks picked up on the name screen (the call sends them once its join is ready). */
  setTracks({ audio, video, problem, muted }: LocalTracks): void {
    const { local, localUserId } = this.#state;
    // Keyed 'camera' when the camera failed, so a later retry with the camera button replaces it rather than stacking a copy.
    if (problem) addNotice(this.#state, video ? 'devices' : 'camera', 'warn', problem);
    this.#tracks.mic = audio;
    this.#tracks.camera = video;
    local.micAvailable = audio !== null;
    local.cameraAvailable = video !== null;
    local.micOn = audio !== null && !muted;
    local.cameraOn = video !== null;
    if (audio) audio.enabled = local.micOn;
    this.#watch('mic', audio);
    this.#watch('camera', video);
    local.screenAvailable = !!navigator.mediaDevices?.getDisplayMedia;
    upsertParticipant(this.#state, localUserId, { micMuted: !local.micOn, cameraOff: !local.cameraOn });
    updateParticipantTracks(this.#state, localUserId, 'camera', video);
  }

  /** Sends every live track through `session` (each source once, in parallel). */
  async produceAll(session: MediaSession): Promise<void> {
    const { local } = this.#state;
    const paused: Record<Source, boolean> = { mic: !local.micOn, camera: !local.cameraOn, screen: false };
    await Promise.all(
      (Object.keys(this.#tracks) as Source[]).map((source) => {
        const track = this.#tracks[source];
        return track && track.readyState === 'live' ? session.produce(source, track, paused[source]) : undefined;
      }),
    );
  }

  async toggleMic(): Promise<void> {
    const track = this.#tracks.mic;
    if (!track) return;
    const on = !this.#state.local.micOn;
    this.#state.local.micOn = on;
    track.enabled = on;
    upsertParticipant(this.#state, this.#state.localUserId, { micMuted: !on });
    await this.#session()?.setPaused('mic', !on);
  }

  async toggleCamera(): Promise<void> {
    const { local, localUserId: me } = this.#state;
    if (local.cameraOn) {
      local.cameraOn = false;
      upsertParticipant(this.#state, me, { cameraOff: true });
      await this.#session()?.setPaused('camera', true);
      // Stop the device so its light goes off; a new track is taken when it is turned on again.
      this.#tracks.camera?.stop();
      this.#tracks.camera = null;
      updateParticipantTracks(this.#state, me, 'camera', null);
      return;
    }
    let track: MediaStreamTrack;
    try {
      track = await this.openCamera();
    } catch (error) {
      addNotice(this.#state, 'camera', 'warn', describeMediaError(error, 'camera'));
      return;
    }
    clearNotice(this.#state, 'camera');
    this.#tracks.camera = track;
    this.#watch('camera', track);
    local.cameraOn = true;
    local.cameraAvailable = true;
    upsertParticipant(this.#state, me, { cameraOff: false });
    updateParticipantTracks(this.#state, me, 'camera', track);
    const session = this.#session();
    if (!session) return;
    if (session.hasProducer('camera')) {
      await session.replaceTrack('camera', track);
      await session.setPaused('camera', false);
    } else {
      await session.produce('camera', track, false).catch(() => {});
    }
  }

  /** The track a source sends (null: none). */
  track(source: Source): MediaStreamTrack | null {
    return this.#tracks[source];
  }

  /**
   * Another microphone or camera: `track` takes the old one's place on its producer (no renegotiation),
   * then the old one stops. A camera switched to is on; a microphone keeps the mute state.
   */
  async useTrack(source: 'mic' | 'camera', track: MediaStreamTrack): Promise<void> {
    const { local, localUserId: me } = this.#state;
    const old = this.#tracks[source];
    this.#tracks[source] = track;
    this.#watch(source, track);
    if (source === 'mic') {
      local.micAvailable = true;
      track.enabled = local.micOn;
    } else {
      clearNotice(this.#state, 'camera');
      local.cameraAvailable = true;
      local.cameraOn = true;
      upsertParticipant(this.#state, me, { cameraOff: false });
      updateParticipantTracks(this.#state, me, 'camera', track);
    }
    const session = this.#session();
    try {
      if (session?.hasProducer(source)) {
        await session.replaceTrack(source, track);
        if (source === 'camera') await session.setPaused('camera', false);
      } else {
        await session?.produce(source, track, source === 'mic' && !local.micOn);
      }
    } finally {
      if (old && old !== track) old.stop();
    }
  }

  #watch(source: 'mic' | 'camera', track: MediaStreamTrack | null): void {
    if (!track || this.#watched.has(track)) return;
    this.#watched.add(track);
    track.addEventListener('ended', () => {
      if (this.#tracks[source] === track) this.onTrackEnded?.(source, track);
    });
  }

  async toggleScreen(): Promise<void> {
    if (this.#state.local.screenOn) return this.#stopScreen();
    let track: MediaStreamTrack | undefined;
    try {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
      track = stream.getVideoTracks()[0];
    } catch (error) {
      if ((error as DOMException).name !== 'NotAllowedError') addNotice(this.#state, 'screen', 'warn', NOTICES.screenFailed);
      return;
    }
    if (!track) return;
    clearNotice(this.#state, 'screen');
    this.#tracks.screen = track;
    this.#state.local.screenOn = true;
    track.addEventListener('ended', () => void this.#stopScreen());
    updateParticipantTracks(this.#state, this.#state.localUserId, 'screen', track);
    await this.#session()?.produce('screen', track, false).catch(() => {});
  }

  /** A host paused our microphone on the server: show it off (we may turn it back on). */
  mutedByHost(): void {
    const track = this.#tracks.mic;
    if (!this.#state.local.micOn) return;
    this.#state.local.micOn = false;
    if (track) track.enabled = false;
    upsertParticipant(this.#state, this.#state.localUserId, { micMuted: true });
    addNotice(this.#state, 'host-muted', 'info', NOTICES.mutedByHost);
  }

  /** A host stopped our screen share (its producer is closed already). */
  stopScreen(): Promise<void> {
    return this.#stopScreen();
  }

  async #stopScreen(): Promise<void> {
    if (!this.#state.local.screenOn) return;
    this.#state.local.screenOn = false;
    this.#tracks.screen?.stop();
    this.#tracks.screen = null;
    updateParticipantTracks(this.#state, this.#state.localUserId, 'screen', null);
    await this.#session()?.closeProducer('screen');
  }

  stopAll(): void {
    for (const track of Object.values(this.#tracks)) track?.stop();
  }
}
