import Alpine from '@alpinejs/csp';
import type { RtpCapabilities } from '../signaling/protocol.ts';
import { checkName } from '../shared/names.ts';
import { Call } from './Call.ts';
import { acquireLocalTracks, mediaDevicesAvailable, type LocalTracks } from './localMedia.ts';
import { takeRoomToken, tokenSubject } from './roomToken.ts';
import { addNotice, createRoomStore, listTiles, toggleLayout, type RoomStore } from './roomStore.ts';
import { stageBindings } from './stage.ts';
import { TileWatcher } from './tileWatcher.ts';

const NAME_KEY = 'parley.name';

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

/** The router's RTP capabilities, embedded in the page so the media device loads before the click. */
function embeddedCapabilities(): RtpCapabilities | undefined {
  const text = document.getElementById('router-rtp-capabilities')?.textContent;
  try {
    return text ? (JSON.parse(text) as RtpCapabilities) : undefined;
  } catch {
    return undefined;
  }
}

const NO_TRACKS: LocalTracks = { audio: null, video: null, problem: null };

Alpine.data('call', () => {
  const component = callPage();
  // The stage's getters join the component as getters (a spread would freeze their values).
  return Object.defineProperties(component, Object.getOwnPropertyDescriptors(stageBindings()));
});

function callPage() {
  let call: Call;
  let state: RoomStore;
  /** Camera and microphone, asked for as the page opens: the preview shows them, the join sends them. */
  let tracks: Promise<LocalTracks> = Promise.resolve(NO_TRACKS);
  /** A deployment that admits people with signed tokens hands them out in the link: /r/<id>?token=… */
  let token: string | undefined;
  return {
    state: undefined as unknown as RoomStore,
    needsName: true,
    hasPreview: false,
    nameDraft: readStoredName(),
    nameError: '',
    passwordError: '',
    inviteLabel: 'Copy invite link',

    init(this: any) {
      const roomId: string = this.$el.dataset.roomId;
      // The seed's RoomStore, as this page's Alpine store.
      token = takeRoomToken(roomId);
      Alpine.store('room', createRoomStore(roomId, tokenSubject(token) ?? newUserId()));
      state = Alpine.store('room') as RoomStore;
      this.state = state;
      if (!window.isSecureContext || !mediaDevicesAvailable()) {
        addNotice(state, 'insecure', 'warn', 'Camera and microphone need HTTPS: this page was opened over plain HTTP on an address other than localhost, so the browser blocks them. You can still watch and listen. The server admin can fix this by enabling HTTPS (see the README).');
      }
      const observer = new ResizeObserver(() => this.layoutGrid());
      observer.observe(this.$refs.main);
      Alpine.effect(() => {
        void this.tiles.length;
        void this.mainTiles.length;
        void state.layout;
        queueMicrotask(() => this.layoutGrid());
      });
      this.$nextTick(() => this.$refs.nameInput?.focus());
      call = new Call(state);
      // Each remote video is received as its tile needs it: paused when not shown, layers by size.
      new TileWatcher(this.$refs.stage, () => listTiles(state).map((tile) => tile.key), (needs) => call.setTileNeeds(needs));
      // Everything that does not need the name starts now: the socket, the media device, the camera.
      call.prepare(embeddedCapabilities());
      if (window.isSecureContext && mediaDevicesAvailable()) {
        tracks = acquireLocalTracks();
        void tracks.then((t) => this.showPreview(t.video));
      }
      (window as unknown as { parley: unknown }).parley = {
        state,
        stats: () => call.stats(),
        socketId: () => call.socketId,
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
      this.showPreview(null);
      state.setLocalUserName(check.name);
      const admission = {
        password: passwordInput?.value || undefined,
        token,
        onRefused: (code: string, message: string) => {
          this.needsName = true;
          void tracks.then((t) => this.showPreview(t.video));
          if (code === 'password_required' || code === 'password_wrong') this.passwordError = message.charAt(0).toUpperCase() + message.slice(1) + '.';
          else this.nameError = `You cannot join: ${message}.`;
        },
      };
      call.join(check.name, admission, tracks);
    },

    /** The camera preview on the name screen (released from the element once the call shows the camera). */
    showPreview(this: any, video: MediaStreamTrack | null) {
      const preview: HTMLVideoElement | undefined = this.$refs.preview;
      if (!preview) return;
      this.hasPreview = video !== null && this.needsName;
      preview.srcObject = this.hasPreview ? new MediaStream([video!]) : null;
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
      void call.local.toggleMic();
    },
    toggleCamera() {
      void call.local.toggleCamera();
    },
    toggleScreen() {
      void call.local.toggleScreen();
    },
    toggleLayout() {
      toggleLayout(state);
    },
    async endCall() {
      await call.leave();
      location.assign(`/r/${encodeURIComponent(state.roomId)}/left`);
    },
  };
}

window.Alpine = Alpine;
Alpine.start();

declare global {
  interface Window {
    Alpine: typeof Alpine;
  }
}
