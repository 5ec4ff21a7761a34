import Alpine from '@alpinejs/csp';
import type { RequestName, RtpCapabilities } from '../signaling/protocol.ts';
import { checkName } from '../shared/names.ts';
import { Call } from './Call.ts';
import { deviceBindings } from './deviceBindings.ts';
import { mediaDevicesAvailable } from './localMedia.ts';
import { takeRoomToken, tokenSubject } from './roomToken.ts';
import { addNotice, createRoomStore, listTiles, toggleLayout, type RoomStore } from './roomStore.ts';
import { browserFacts, browserSupport } from './browserSupport.ts';
import { SHORTCUTS, shortcutFor } from './shortcuts.ts';
import { socialBindings } from './socialBindings.ts';
import { stageBindings } from './stage.ts';
import { TileWatcher } from './tileWatcher.ts';

const NAME_KEY = 'parley.name';

/**
 * The room's host credential: it comes once in the creator's link (#host=…, never sent to a server),
 * is kept in this browser for the room, and the fragment is taken out of the address bar.
 */
function takeHostKey(roomId: string): string | undefined {
  const key = `parley.host.${roomId}`;
  const fromLink = /^#host=([A-Za-z0-9_-]{16,64})$/.exec(location.hash)?.[1];
  try {
    if (fromLink) {
      localStorage.setItem(key, fromLink);
      history.replaceState(history.state, '', location.pathname + location.search);
    }
    return fromLink ?? localStorage.getItem(key) ?? undefined;
  } catch {
    return fromLink;
  }
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

/** The router's RTP capabilities, embedded in the page so the media device loads before the click. */
function embeddedCapabilities(): RtpCapabilities | undefined {
  const text = document.getElementById('router-rtp-capabilities')?.textContent;
  try {
    return text ? (JSON.parse(text) as RtpCapabilities) : undefined;
  } catch {
    return undefined;
  }
}

Alpine.data('call', () => {
  const component = callPage();
  // The stage's getters join the component as getters (a spread would freeze their values).
  const social = socialBindings(
    () => component.call(),
    (text) => component.state && addNotice(component.state, 'request', 'warn', text),
  );
  return Object.defineProperties(component, {
    ...Object.getOwnPropertyDescriptors(stageBindings()),
    ...Object.getOwnPropertyDescriptors(deviceBindings()),
    ...Object.getOwnPropertyDescriptors(social),
  });
});

function callPage() {
  let call: Call;
  let state: RoomStore;
  /** A deployment that admits people with signed tokens hands them out in the link: /r/<id>?token=… */
  let token: string | undefined;
  /** Set in the browser of the room's creator (or whoever opened its host link). */
  let hostKey: string | undefined;
  return {
    state: undefined as unknown as RoomStore,
    /** Set when this browser cannot make a call: the page says why instead of offering to join. */
    unsupported: null as null | { title: string; advice: string },
    get isUnsupported() {
      return this.unsupported !== null;
    },
    get unsupportedTitle() {
      return this.unsupported?.title ?? '';
    },
    get unsupportedAdvice() {
      return this.unsupported?.advice ?? '';
    },
    get canTryToJoin() {
      return this.needsName && this.unsupported === null;
    },
    /** The page's call (for the bindings merged in: chat, hands, host controls). */
    call: () => call,
    needsName: true,
    nameDraft: readStoredName(),
    nameError: '',
    passwordError: '',
    inviteLabel: 'Copy invite link',

    init(this: any) {
      const roomId: string = this.$el.dataset.roomId;
      // The seed's RoomStore, as this page's Alpine store.
      token = takeRoomToken(roomId);
      hostKey = takeHostKey(roomId);
      Alpine.store('room', createRoomStore(roomId, tokenSubject(token) ?? newUserId()));
      state = Alpine.store('room') as RoomStore;
      this.state = state;
      const support = browserSupport(browserFacts());
      if (!support.ok) {
        // Nothing starts (no socket, no camera): the page says what is wrong and what to open instead.
        this.unsupported = { title: support.title, advice: support.advice };
        return;
      }
      if (!window.isSecureContext || !mediaDevicesAvailable()) {
        addNotice(state, 'insecure', 'warn', 'Camera and microphone need HTTPS: this page was opened over plain HTTP on an address other than localhost, so the browser blocks them. You can still watch and listen. The server admin can fix this by enabling HTTPS (see the README).');
      }
      const observer = new ResizeObserver(() => this.layoutGrid());
      observer.observe(this.$refs.main);
      Alpine.effect(() => {
        void this.tileList.length;
        void this.mainTileList.length;
        void state.layout;
        queueMicrotask(() => this.layoutGrid());
      });
      this.$nextTick(() => this.$refs.nameInput?.focus());
      call = new Call(state);
      // Each remote video is received as its tile needs it: paused when not shown, layers by size.
      new TileWatcher(this.$refs.stage, () => listTiles(state).map((tile) => tile.key), (needs) => call.setTileNeeds(needs));
      // Everything that does not need the name starts now: the socket, the media device, the camera.
      call.prepare(embeddedCapabilities());
      // Camera and microphone, asked for as the page opens (deviceBindings): the preview shows them, the join sends them.
      this.startDevices(call);
      document.addEventListener('keydown', (event) => this.onShortcut(event));
      (window as unknown as { parley: unknown }).parley = {
        state,
        stats: () => call.stats(),
        paths: () => call.paths(),
        /** A raw request as this page's session (diagnostics and tests): the reply, or {error, code}. */
        request: (event: RequestName, payload: never) => call.request(event, payload).catch((error: { message: string; code?: string }) => ({ error: error.message, code: error.code })),
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
      const tracks = this.joinTracks();
      this.leavePrejoin();
      state.setLocalUserName(check.name);
      const admission = {
        password: passwordInput?.value || undefined,
        token,
        hostKey,
        onRefused: (code: string, message: string) => {
          this.needsName = true;
          this.backToPrejoin();
          if (code === 'password_required' || code === 'password_wrong') this.passwordError = message.charAt(0).toUpperCase() + message.slice(1) + '.';
          else this.nameError = `You cannot join: ${message}.`;
        },
      };
      call.join(check.name, admission, tracks);
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
      return `${state?.layout === 'spotlight' ? 'layout-spotlight' : 'layout-grid'}${state?.panel ? ' has-panel' : ''}`;
    },
    // ——— Keyboard shortcuts ———
    helpOpen: false,
    shortcutList: SHORTCUTS.map(({ key, label }) => ({ key: key.toUpperCase(), label })),
    toggleHelp(this: any) {
      this.helpOpen = !this.helpOpen;
    },
    closeHelp(this: any) {
      this.helpOpen = false;
    },
    /** One key, no modifier, not while typing, not before joining (the pre-join screen has fields). */
    onShortcut(this: any, event: KeyboardEvent) {
      if (this.needsName || this.settingsOpen || this.unmuteAsked) return;
      if (event.key === 'Escape' && this.helpOpen) return void (this.helpOpen = false);
      const action = shortcutFor(event);
      if (!action) return;
      event.preventDefault();
      this[action]();
    },

    acceptUnmute() {
      state.unmuteAsked = false;
      if (!state.local.micOn) void call.local.toggleMic();
    },
    async copyRoomLink(this: any) {
      await this.copyInvite();
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
    /** No getDisplayMedia (phones, some in-app browsers): no Share button at all. */
    get screenSupported() {
      return typeof navigator.mediaDevices?.getDisplayMedia === 'function';
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
