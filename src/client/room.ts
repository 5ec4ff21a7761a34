import Alpine from '@alpinejs/csp';
import { checkName, initials } from '../shared/names.ts';
import { CallSession } from './CallSession.ts';
import { bestGrid } from './layout.ts';
import { acquireLocalTracks, mediaDevicesAvailable } from './localMedia.ts';
import { addNotice, createRoomStore, listTiles, media, setPinnedTile, spotlightKey, toggleLayout, type RoomStore, type Tile } from './roomStore.ts';

const NAME_KEY = 'parley.name';
const GAP = 10;

interface TileView extends Tile {
  name: string;
  label: string;
  isScreen: boolean;
  isLocal: boolean;
  initials: string;
  micMuted: boolean;
  cameraOff: boolean;
  showVideo: boolean;
  showAvatar: boolean;
  pinned: boolean;
  pinLabel: string;
  version: number;
}

function readStoredName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

/** 128 random bits, URL-safe. (crypto.randomUUID exists only on secure origins; this page also loads over plain HTTP.) */
function newUserId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

Alpine.data('call', () => {
  let session: CallSession | undefined;
  let state: RoomStore;
  return {
    state: undefined as unknown as RoomStore,
    needsName: true,
    nameDraft: readStoredName(),
    nameError: '',
    passwordError: '',
    inviteLabel: 'Copy invite link',

    init(this: any) {
      const roomId: string = this.$el.dataset.roomId;
      // The seed's RoomStore, as this page's Alpine store.
      Alpine.store('room', createRoomStore(roomId, newUserId()));
      state = Alpine.store('room') as RoomStore;
      this.state = state;
      if (!window.isSecureContext || !mediaDevicesAvailable()) {
        addNotice(state, 'insecure', 'warn', 'Camera and microphone need HTTPS: this page was opened over plain HTTP on an address other than localhost, so the browser blocks them. You can still watch and listen. The server admin can fix this by enabling HTTPS (see the README).');
      }
      const observer = new ResizeObserver(() => this.layoutGrid());
      observer.observe(this.$refs.main);
      Alpine.effect(() => {
        void this.mainTiles.length;
        void state.layout;
        queueMicrotask(() => this.layoutGrid());
      });
      this.$nextTick(() => this.$refs.nameInput?.focus());
      (window as unknown as { parley: unknown }).parley = {
        state,
        stats: () => session?.stats(),
        socketId: () => session?.socketId,
      };
    },

    // ——— Name modal ———
    get nameInvalid() {
      return this.nameError ? 'true' : 'false';
    },
    onNameInput(this: any) {
      this.nameDraft = this.$event.target.value;
      if (this.nameError) this.nameError = '';
    },
    async submitName(this: any) {
      const check = checkName(this.$refs.nameInput.value);
      if (!check.ok) {
        this.nameError = check.error;
        this.$refs.nameInput.focus();
        return;
      }
      try {
        localStorage.setItem(NAME_KEY, check.name);
      } catch {
        // Private mode: the name just is not remembered.
      }
      const passwordInput: HTMLInputElement | undefined = this.$refs.passwordInput;
      if (passwordInput && !passwordInput.value) {
        this.passwordError = 'This room needs a password.';
        passwordInput.focus();
        return;
      }
      this.passwordError = '';
      this.needsName = false;
      state.setLocalUserName(check.name);
      // A deployment that admits people with signed tokens hands them out in the link: /r/<id>?token=…
      const token = new URLSearchParams(location.search).get('token') ?? undefined;
      session = new CallSession(state, check.name, {
        password: passwordInput?.value || undefined,
        token,
        onRefused: (message) => {
          this.needsName = true;
          if (/password/.test(message)) this.passwordError = message.charAt(0).toUpperCase() + message.slice(1) + '.';
          else this.nameError = `You cannot join: ${message}.`;
        },
      });
      const tracks = await acquireLocalTracks();
      // Keyed 'camera' when the camera failed, so a later retry with the camera button replaces it rather than stacking a copy.
      if (tracks.problem) addNotice(state, tracks.video ? 'devices' : 'camera', 'warn', tracks.problem);
      session.setLocalTracks(tracks.audio, tracks.video);
      state.local.screenAvailable = !!navigator.mediaDevices?.getDisplayMedia;
      session.start();
    },

    // ——— Top bar ———
    get participantCount() {
      return state ? String(state.order.length) : '0';
    },
    get connectionClass() {
      const c = state?.connection;
      return c === 'connected' ? 'is-connected' : c === 'connecting' || c === 'reconnecting' ? 'is-connecting' : '';
    },
    get connectionLabel() {
      const labels: Record<string, string> = { idle: 'Not connected', connecting: 'Connecting', connected: 'Connected', reconnecting: 'Reconnecting', left: 'Left' };
      return labels[state?.connection ?? 'idle'];
    },
    get notices() {
      return state?.notices ?? [];
    },
    get callClass() {
      return state?.layout === 'spotlight' ? 'layout-spotlight' : 'layout-grid';
    },
    async copyInvite(this: any) {
      const link = `${location.origin}/r/${state.roomId}`;
      try {
        await navigator.clipboard.writeText(link);
        this.inviteLabel = 'Link copied';
      } catch {
        window.prompt('Copy this invite link:', link);
      }
      setTimeout(() => (this.inviteLabel = 'Copy invite link'), 2000);
    },

    // ——— Tiles ———
    get tiles(): TileView[] {
      if (!state) return [];
      return listTiles(state).map((tile) => {
        const p = state.participants[tile.userId]!;
        const isScreen = tile.source === 'screen';
        const hasVideo = media.has(tile.key) && (isScreen || !p.cameraOff);
        const name = p.name || 'Guest';
        const who = p.isLocal ? `${name} (you)` : name;
        const pinned = state.pinnedTileKey === tile.key;
        return {
          ...tile,
          name: isScreen ? `${who} · screen` : who,
          label: isScreen ? `${name}'s screen` : who,
          isScreen,
          isLocal: p.isLocal,
          initials: initials(name),
          micMuted: !isScreen && p.micMuted,
          cameraOff: !isScreen && p.cameraOff,
          showVideo: hasVideo,
          showAvatar: !hasVideo,
          pinned,
          pinLabel: pinned ? `Unpin ${isScreen ? `${name}'s screen` : name}` : `Pin ${isScreen ? `${name}'s screen` : name}`,
          version: p.mediaVersion,
        };
      });
    },
    get spotlightTile(): string | undefined {
      return state ? spotlightKey(state, listTiles(state)) : undefined;
    },
    get mainTiles(): TileView[] {
      const tiles = this.tiles;
      if (state?.layout !== 'spotlight') return tiles;
      const key = this.spotlightTile;
      return tiles.filter((t) => t.key === key);
    },
    get stripTiles(): TileView[] {
      if (state?.layout !== 'spotlight') return [];
      const key = this.spotlightTile;
      return this.tiles.filter((t) => t.key !== key);
    },
    get hasStrip() {
      return this.stripTiles.length > 0;
    },
    get stageClass() {
      return state?.layout === 'spotlight' ? 'is-spotlight' : 'is-grid';
    },
    tileClass(this: any) {
      const t: TileView = this.tile;
      return [t.isScreen ? 'is-screen' : '', t.isLocal ? 'is-local' : '', t.pinned ? 'is-pinned' : '', t.key === this.spotlightTile && state.layout === 'spotlight' ? 'is-main' : ''].join(' ');
    },
    bindVideo(this: any) {
      const t: TileView = this.tile;
      void t.version;
      const el = this.$el as HTMLVideoElement;
      const stream = media.get(t.key) ?? null;
      if (el.srcObject !== stream) el.srcObject = stream;
      if (stream) el.play().catch(() => {});
    },
    togglePin(this: any) {
      const t: TileView = this.tile;
      setPinnedTile(state, state.pinnedTileKey === t.key ? null : t.key);
    },
    layoutGrid(this: any) {
      const main: HTMLElement | undefined = this.$refs.main;
      if (!main || !state) return;
      const count = Math.max(1, this.mainTiles.length);
      const { tileW, tileH } = bestGrid(count, main.clientWidth, main.clientHeight, GAP);
      main.style.setProperty('--tile-w', `${tileW}px`);
      main.style.setProperty('--tile-h', `${tileH}px`);
      main.style.setProperty('--gap', `${GAP}px`);
    },

    // ——— Controls ———
    get micOn() {
      return !!state?.local.micOn;
    },
    get micOff() {
      return !state?.local.micOn;
    },
    get micPressed() {
      return state?.local.micOn ? 'true' : 'false';
    },
    get micClass() {
      return state?.local.micOn ? '' : 'is-off';
    },
    get micUnavailable() {
      return !state?.local.micAvailable;
    },
    get micTitle() {
      return state?.local.micAvailable ? (state.local.micOn ? 'Mute your microphone' : 'Unmute your microphone') : 'No microphone available';
    },
    get cameraOn() {
      return !!state?.local.cameraOn;
    },
    get cameraOff() {
      return !state?.local.cameraOn;
    },
    get cameraPressed() {
      return state?.local.cameraOn ? 'true' : 'false';
    },
    get cameraClass() {
      return state?.local.cameraOn ? '' : 'is-off';
    },
    get cameraUnavailable() {
      return !state?.local.cameraAvailable && !mediaDevicesAvailable();
    },
    get cameraTitle() {
      return state?.local.cameraOn ? 'Turn your camera off' : 'Turn your camera on';
    },
    get screenPressed() {
      return state?.local.screenOn ? 'true' : 'false';
    },
    get screenClass() {
      return state?.local.screenOn ? 'is-active' : '';
    },
    get screenUnavailable() {
      return !state?.local.screenAvailable;
    },
    get isGrid() {
      return state?.layout !== 'spotlight';
    },
    get isSpotlight() {
      return state?.layout === 'spotlight';
    },
    get spotlightPressed() {
      return state?.layout === 'spotlight' ? 'true' : 'false';
    },
    toggleMic() {
      void session?.toggleMic();
    },
    toggleCamera() {
      void session?.toggleCamera();
    },
    toggleScreen() {
      void session?.toggleScreen();
    },
    toggleLayout() {
      toggleLayout(state);
    },
    async endCall() {
      await session?.leave();
      location.assign(`/r/${encodeURIComponent(state.roomId)}/left`);
    },
  };
});

window.Alpine = Alpine;
Alpine.start();

declare global {
  interface Window {
    Alpine: typeof Alpine;
  }
}
