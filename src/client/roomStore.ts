/**
 * The call's state: the page's Alpine store `room`, mirroring the seed's RoomStore (participants and
 * their tracks, pinned participant, layout, local user, and the same actions). The data is plain, so
 * Alpine can make it reactive; MediaStreams live beside it in `media` (reactive proxies around
 * MediaStreams break <video>) and are reached through `tracksOf`.
 */
export type Layout = 'grid' | 'spotlight';
export type VideoSource = 'camera' | 'screen';
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'left';

export interface Participant {
  id: string;
  name: string;
  isLocal: boolean;
  micMuted: boolean;
  cameraOff: boolean;
  hasScreen: boolean;
  /** Bumped whenever one of the participant's streams changes, so bound <video>s re-attach. */
  mediaVersion: number;
  role: 'host' | 'guest';
  /** When their hand went up (server time, ms), or null. */
  handRaisedAt: number | null;
  /** The reaction shown over their tile for a moment, or null. */
  reaction: string | null;
  /** How well their video reaches us (ours: how well we send), once known. */
  quality: 'good' | 'fair' | 'poor' | null;
}

/** A chat message as the page shows it. */
export interface ChatEntry {
  id: string;
  userId: string;
  name: string;
  time: string;
  parts: { text: string; href: string | null; isText: boolean }[];
  mine: boolean;
}

export interface Notice {
  id: number;
  level: 'info' | 'warn' | 'error';
  text: string;
  key: string;
  /** An in-app page that helps (always a fixed path of ours, never user data). */
  link: { href: string; text: string } | null;
}

export interface LocalMediaState {
  micOn: boolean;
  cameraOn: boolean;
  screenOn: boolean;
  micAvailable: boolean;
  cameraAvailable: boolean;
  screenAvailable: boolean;
}

export interface RoomState {
  roomId: string;
  localUserId: string;
  /** The name this person joins under (set when the name dialog is submitted). */
  localUserName: string;
  participants: Record<string, Participant>;
  /** Join order, for stable tile order. */
  order: string[];
  pinnedTileKey: string | null;
  /** The newest screen share: what spotlight shows when nothing is pinned. */
  spotlightHint: string | null;
  layout: Layout;
  /** The layout to return to when the last screen share ends (set when one forced spotlight). */
  layoutBeforeScreen: Layout | null;
  connection: ConnectionState;
  notices: Notice[];
  local: LocalMediaState;
  /** Who speaks now (the server's activeSpeaker), for the highlight. */
  activeSpeakerId: string | null;
  /** The speaker the spotlight follows, and since when (it holds a while: no flapping). */
  spotlightSpeakerId: string | null;
  spotlightSpeakerSince: number;
  /** When each participant last spoke (ms, page clock): who may stay on the grid's first page. */
  lastSpoke: Record<string, number>;
  /** Grid paging: tiles per page (0: all fit) and the page shown. */
  pageSize: number;
  gridPage: number;
  chat: ChatEntry[];
  /** Messages that came while the chat panel was closed. */
  chatUnread: number;
  /** The side panel shown: chat, the participant list, or none. */
  panel: 'chat' | 'people' | null;
  locked: boolean;
  /** Who waits in the lobby (hosts see it). */
  lobby: { userId: string; userName: string }[];
  /** Our own way in: seated (or not tried yet), waiting in the lobby, or turned away. */
  entry: 'open' | 'lobby' | 'denied';
  /** A host asked us to unmute. */
  unmuteAsked: boolean;
  /** How our media reaches the server: directly, or through the TURN relay (null until connected). */
  mediaPath: 'direct' | 'relay' | null;
}

export const tileKey = (userId: string, source: VideoSource) => `${userId}:${source}`;

/** Streams by tile key. Deliberately not reactive. */
export const media = new Map<string, MediaStream>();

let noticeIds = 0;

export function createRoomState(roomId: string, localUserId: string): RoomState {
  return {
    roomId,
    localUserId,
    localUserName: '',
    // No prototype: user ids such as "__proto__" or "toString" are plain keys here.
    participants: Object.create(null) as Record<string, Participant>,
    order: [],
    pinnedTileKey: null,
    spotlightHint: null,
    layout: 'grid',
    layoutBeforeScreen: null,
    connection: 'idle',
    notices: [],
    local: { micOn: false, cameraOn: false, screenOn: false, micAvailable: false, cameraAvailable: false, screenAvailable: false },
    activeSpeakerId: null,
    spotlightSpeakerId: null,
    spotlightSpeakerSince: 0,
    lastSpoke: Object.create(null) as Record<string, number>,
    pageSize: 0,
    gridPage: 0,
    mediaPath: null,
    chat: [],
    chatUnread: 0,
    panel: null,
    locked: false,
    lobby: [],
    entry: 'open',
    unmuteAsked: false,
  };
}

export function upsertParticipant(state: RoomState, id: string, patch: Partial<Participant>): Participant {
  let participant = state.participants[id];
  if (!participant) {
    participant = { id, name: '', isLocal: id === state.localUserId, micMuted: true, cameraOff: true, hasScreen: false, mediaVersion: 0, role: 'guest', handRaisedAt: null, reaction: null, quality: null, ...patch };
    state.participants[id] = participant;
    state.order.push(id);
  } else {
    Object.assign(participant, patch);
  }
  return state.participants[id]!;
}

export function removeParticipant(state: RoomState, id: string): void {
  for (const source of ['camera', 'screen'] as const) media.delete(tileKey(id, source));
  delete state.participants[id];
  delete state.lastSpoke[id];
  if (state.activeSpeakerId === id) state.activeSpeakerId = null;
  if (state.spotlightSpeakerId === id) state.spotlightSpeakerId = null;
  state.order = state.order.filter((other) => other !== id);
  if (state.pinnedTileKey?.startsWith(`${id}:`)) state.pinnedTileKey = null;
  settleScreenLayout(state);
}

/** Attaches or detaches a video track for a participant's camera or screen tile. */
export function updateParticipantTracks(state: RoomState, id: string, source: VideoSource, track: MediaStreamTrack | null): void {
  const participant = state.participants[id];
  if (!participant) return;
  const key = tileKey(id, source);
  if (track) media.set(key, new MediaStream([track]));
  else media.delete(key);
  if (source === 'screen') {
    const hadScreen = participant.hasScreen;
    participant.hasScreen = track !== null;
    if (!hadScreen && track) onScreenStarted(state, key);
    if (hadScreen && !track) {
      if (state.pinnedTileKey === key) state.pinnedTileKey = null;
      settleScreenLayout(state);
    }
  }
  participant.mediaVersion++;
}

function onScreenStarted(state: RoomState, key: string): void {
  if (state.layout === 'grid') {
    state.layoutBeforeScreen = 'grid';
    state.layout = 'spotlight';
  }
  // The newest share takes the spotlight (a pinned tile still wins).
  state.spotlightHint = key;
}

/** When no screen is shared any more, return to the layout a share forced us out of. */
function settleScreenLayout(state: RoomState): void {
  const anyScreen = Object.values(state.participants).some((p) => p.hasScreen);
  if (!anyScreen && state.layoutBeforeScreen) {
    state.layout = state.layoutBeforeScreen;
    state.layoutBeforeScreen = null;
  }
}

export function setPinnedTile(state: RoomState, key: string | null): void {
  state.pinnedTileKey = key;
  if (key) {
    if (state.layout === 'grid') state.layout = 'spotlight';
    state.layoutBeforeScreen = null;
  }
}

export function toggleLayout(state: RoomState): void {
  state.layout = state.layout === 'grid' ? 'spotlight' : 'grid';
  // A manual choice wins over the automatic screen-share switch.
  state.layoutBeforeScreen = null;
  if (state.layout === 'grid') state.pinnedTileKey = null;
}

export function addNotice(state: RoomState, key: string, level: Notice['level'], text: string, link: Notice['link'] = null): void {
  state.notices = [...state.notices.filter((n) => n.key !== key), { id: ++noticeIds, key, level, text, link }];
}

export function clearNotice(state: RoomState, key: string): void {
  state.notices = state.notices.filter((n) => n.key !== key);
}

export interface Tile {
  key: string;
  userId: string;
  source: VideoSource;
}

/** Every tile in order: each participant's camera tile, plus a screen tile while they share. */
export function listTiles(state: RoomState): Tile[] {
  const tiles: Tile[] = [];
  for (const id of state.order) {
    const participant = state.participants[id];
    if (!participant) continue;
    tiles.push({ key: tileKey(id, 'camera'), userId: id, source: 'camera' });
    if (participant.hasScreen) tiles.push({ key: tileKey(id, 'screen'), userId: id, source: 'screen' });
  }
  return tiles;
}

/**
 * Spotlight shows: the pinned tile, else the newest screen share (any share), else the speaker it
 * follows, else the first remote camera.
 */
export function spotlightKey(state: RoomState, tiles: Tile[]): string | undefined {
  const exists = (key: string | null): key is string => key !== null && tiles.some((t) => t.key === key);
  if (exists(state.pinnedTileKey)) return state.pinnedTileKey;
  if (exists(state.spotlightHint)) return state.spotlightHint;
  const screen = tiles.find((t) => t.source === 'screen');
  if (screen) return screen.key;
  const speaker = state.spotlightSpeakerId === null ? null : tileKey(state.spotlightSpeakerId, 'camera');
  if (exists(speaker)) return speaker;
  return (tiles.find((t) => t.userId !== state.localUserId) ?? tiles[0])?.key;
}

/** The seed's RoomStore actions, as methods of the store (the functions above do the work). */
export interface RoomActions {
  readonly pinnedParticipantId: string | null;
  upsertParticipant(id: string, patch: Partial<Participant>): Participant;
  removeParticipant(id: string): void;
  updateParticipantTracks(id: string, source: VideoSource, track: MediaStreamTrack | null): void;
  setLocalUserName(name: string): void;
  /** Pins a participant's screen share when they have one, else their camera; null unpins. */
  setPinnedParticipant(id: string | null): void;
  toggleLayout(): void;
  tracksOf(id: string): { camera: MediaStream | undefined; screen: MediaStream | undefined };
}

export type RoomStore = RoomState & RoomActions;

export function createRoomStore(roomId: string, localUserId: string): RoomStore {
  return {
    ...createRoomState(roomId, localUserId),
    get pinnedParticipantId() {
      return this.pinnedTileKey === null ? null : this.pinnedTileKey.slice(0, this.pinnedTileKey.lastIndexOf(':'));
    },
    upsertParticipant(id, patch) {
      return upsertParticipant(this, id, patch);
    },
    removeParticipant(id) {
      removeParticipant(this, id);
    },
    updateParticipantTracks(id, source, track) {
      updateParticipantTracks(this, id, source, track);
    },
    setLocalUserName(name) {
      this.localUserName = name;
      if (this.participants[this.localUserId]) upsertParticipant(this, this.localUserId, { name });
    },
    setPinnedParticipant(id) {
      const participant = id === null ? undefined : this.participants[id];
      setPinnedTile(this, participant ? tileKey(participant.id, participant.hasScreen ? 'screen' : 'camera') : null);
    },
    toggleLayout() {
      toggleLayout(this);
    },
    tracksOf(id) {
      return { camera: media.get(tileKey(id, 'camera')), screen: media.get(tileKey(id, 'screen')) };
    },
  };
}
