import type { types } from 'mediasoup-client';
import type { Direction, MediaPath, MediaSessionListener, RemoteMedia } from './MediaSession.ts';
import { addNotice, clearNotice, removeParticipant, updateParticipantTracks, upsertParticipant, type RoomState } from './roomStore.ts';
import type { Quality } from './quality.ts';
import { addChatMessage, REACTION_MS, setHand, setLobby, setRole, showReaction } from './social.ts';
import { followSpeaker, setActiveSpeaker } from './speakers.ts';
import type { ChatMessage, ParticipantInfo, Role } from '../signaling/protocol.ts';

const CONNECTIVITY_LINK = { href: '/connectivity', text: 'Check your connection' };

/** Everything the call says to its user, in one place. */
export const NOTICES = {
  connecting: (reason: string) => `Cannot connect to the server (${reason}). Retrying…`,
  connectionLost: 'Connection lost. Reconnecting…',
  serverRestarting: 'The server is restarting. Reconnecting…',
  mediaRestarted: 'The media server restarted. Rejoining…',
  joinFailed: (reason: string) => `Could not join the call: ${reason}. Retrying…`,
  mediaBlocked: 'Audio and video cannot get through to the server. Trying again…',
  autoplay: 'Click anywhere to hear the others.',
  screenFailed: 'Screen sharing could not start.',
  removed: (reason: string) => `You were removed from the call${reason ? `: ${reason}` : ''}.`,
  mutedByHost: 'A host muted your microphone. You can unmute yourself.',
  lobby: 'This call is locked. Waiting for a host to let you in…',
  denied: 'A host did not let you in to this call.',
  locked: 'A host locked the call: new people wait until a host lets them in.',
  weakUplink: 'Your connection is weak: the others may see and hear you poorly.',
  relayFallback: 'A direct connection to the media server did not work. Trying again through the relay server…',
  relayed: 'Your network blocks direct connections to the media server, so this call goes through the relay server. It works, with a little more delay.',
} as const;

/**
 * Turns what the call learns (people, remote media, connection trouble) into the page's room state,
 * and plays remote sound. Remote audio plays from elements of its own in #remote-audio, not inside
 * the tiles: tiles are rebuilt when the layout changes, and sound must not stutter when someone pins
 * a tile.
 */
export class CallView implements MediaSessionListener {
  readonly state: RoomState;
  readonly #audio = new Map<string, HTMLAudioElement>();
  /** Called with each remote <audio> as it is made (the page sends it to the chosen speaker). */
  onAudioElement: ((audio: HTMLAudioElement) => void) | undefined;
  #followTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(state: RoomState) {
    this.state = state;
  }

  // ——— People ———

  participantJoined({ userId, userName }: ParticipantInfo): void {
    if (userId !== this.state.localUserId) upsertParticipant(this.state, userId, { name: userName });
  }

  participantLeft(userId: string): void {
    removeParticipant(this.state, userId);
  }

  /** After a (re)join: exactly these remote people are present. */
  setParticipants(present: ParticipantInfo[]): void {
    const ids = new Set(present.map((p) => p.userId));
    for (const id of [...this.state.order]) if (id !== this.state.localUserId && !ids.has(id)) removeParticipant(this.state, id);
    for (const participant of present) this.participantJoined(participant);
  }

  // ——— Chat, hands, reactions, roles, the lobby ———

  chatMessage(message: ChatMessage): void {
    addChatMessage(this.state, message);
  }

  chatHistory(messages: ChatMessage[]): void {
    for (const message of messages) addChatMessage(this.state, message, true);
  }

  handRaised({ userId, raisedAt }: { userId: string; raisedAt: number | null }): void {
    setHand(this.state, userId, raisedAt);
  }

  reaction(userId: string, emoji: string): void {
    setTimeout(showReaction(this.state, userId, emoji), REACTION_MS);
  }

  roleChanged(userId: string, role: Role): void {
    setRole(this.state, userId, role);
  }

  roomLocked(locked: boolean): void {
    this.state.locked = locked;
  }

  lobbyChanged(waiting: ParticipantInfo[]): void {
    setLobby(this.state, waiting);
  }

  unmuteRequested(): void {
    this.state.unmuteAsked = true;
  }

  quality(userId: string, quality: Quality): void {
    if (this.state.participants[userId]) upsertParticipant(this.state, userId, { quality });
  }

  /** How well we send: shown on our own tile, and a notice while it is poor. */
  uplinkQuality(quality: Quality): void {
    this.quality(this.state.localUserId, quality);
    if (quality === 'poor') addNotice(this.state, 'uplink', 'warn', NOTICES.weakUplink);
    else clearNotice(this.state, 'uplink');
  }

  /** We wait in a locked room's lobby. */
  inLobby(): void {
    this.state.entry = 'lobby';
    this.state.connection = 'connecting';
    addNotice(this.state, 'connection', 'info', NOTICES.lobby);
  }

  deniedEntry(): void {
    this.state.entry = 'denied';
    this.state.connection = 'idle';
    addNotice(this.state, 'connection', 'error', NOTICES.denied);
  }

  /** The server's active speaker; the spotlight follows once its hold is over. */
  activeSpeaker(userId: string | null): void {
    this.#followLater(setActiveSpeaker(this.state, userId, Date.now()));
  }

  #followLater(wait: number | undefined): void {
    clearTimeout(this.#followTimer);
    if (wait !== undefined) this.#followTimer = setTimeout(() => this.#followLater(followSpeaker(this.state, Date.now())), wait);
  }

  // ——— Remote media (MediaSessionListener) ———

  remoteAdded(remote: RemoteMedia): void {
    upsertParticipant(this.state, remote.userId, {});
    if (remote.source === 'audio') this.#play(remote);
    else updateParticipantTracks(this.state, remote.userId, remote.source, remote.consumer.track);
    this.remotePaused(remote);
  }

  remoteRemoved(remote: RemoteMedia): void {
    const audio = this.#audio.get(remote.producerId);
    if (audio) {
      audio.srcObject = null;
      audio.remove();
      this.#audio.delete(remote.producerId);
    }
    if (!this.state.participants[remote.userId]) return;
    if (remote.audioOf === 'mic') upsertParticipant(this.state, remote.userId, { micMuted: true });
    if (remote.source === 'camera' || remote.source === 'screen') updateParticipantTracks(this.state, remote.userId, remote.source, null);
    if (remote.source === 'camera') upsertParticipant(this.state, remote.userId, { cameraOff: true });
  }

  remotePaused(remote: RemoteMedia): void {
    if (remote.audioOf === 'mic') upsertParticipant(this.state, remote.userId, { micMuted: remote.paused });
    if (remote.source === 'camera') upsertParticipant(this.state, remote.userId, { cameraOff: remote.paused });
  }

  transportState(direction: Direction, state: types.ConnectionState): void {
    if (state === 'connected') clearNotice(this.state, `media-${direction}`);
    if (state === 'failed') addNotice(this.state, `media-${direction}`, 'error', NOTICES.mediaBlocked, CONNECTIVITY_LINK);
  }

  /** A transport's direct attempt failed: it retries through the TURN relay on its own. */
  relayFallback(): void {
    addNotice(this.state, 'relay', 'info', NOTICES.relayFallback);
  }

  /** A transport connected: through the relay (said once, in plain words), or directly. */
  mediaPath(path: MediaPath): void {
    this.state.mediaPath = path === 'relay' || this.state.mediaPath === 'relay' ? 'relay' : 'direct';
    if (path === 'relay') addNotice(this.state, 'relay', 'info', NOTICES.relayed, CONNECTIVITY_LINK);
  }

  #play(remote: RemoteMedia): void {
    const audio = new Audio();
    audio.autoplay = true;
    audio.dataset.userId = remote.userId;
    audio.dataset.source = remote.audioOf;
    audio.srcObject = new MediaStream([remote.consumer.track]);
    this.onAudioElement?.(audio);
    document.getElementById('remote-audio')?.append(audio);
    this.#audio.set(remote.producerId, audio);
    audio.play().catch(() => {
      addNotice(this.state, 'autoplay', 'info', NOTICES.autoplay);
      const resume = () => {
        clearNotice(this.state, 'autoplay');
        for (const element of this.#audio.values()) void element.play().catch(() => {});
      };
      document.addEventListener('click', resume, { once: true });
    });
  }

  // ——— Connection ———

  connecting(): void {
    this.state.connection = this.state.connection === 'connected' || this.state.connection === 'reconnecting' ? 'reconnecting' : 'connecting';
  }

  connected(): void {
    this.state.connection = 'connected';
    this.state.entry = 'open';
    clearNotice(this.state, 'connection');
  }

  cannotConnect(reason: string): void {
    addNotice(this.state, 'connection', 'error', NOTICES.connecting(reason), CONNECTIVITY_LINK);
  }

  connectionLost(): void {
    this.state.connection = 'reconnecting';
    addNotice(this.state, 'connection', 'warn', NOTICES.connectionLost);
  }

  roomClosed(reason: 'worker-died' | 'shutdown'): void {
    addNotice(this.state, 'connection', 'warn', reason === 'shutdown' ? NOTICES.serverRestarting : NOTICES.mediaRestarted);
  }

  joinFailed(reason: string): void {
    addNotice(this.state, 'connection', 'error', NOTICES.joinFailed(reason), CONNECTIVITY_LINK);
  }

  removed(reason: string): void {
    addNotice(this.state, 'connection', 'error', NOTICES.removed(reason));
  }

  /** Refused before the call started: back on the name screen, not connecting. */
  refused(): void {
    if (this.state.connection !== 'left') this.state.connection = 'idle';
    clearNotice(this.state, 'connection');
  }

  left(): void {
    this.state.connection = 'left';
  }
}
