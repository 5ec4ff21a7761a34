import { mediaNeedsGesture } from './browserSupport.ts';
import type { Call } from './Call.ts';
import {
  deviceIdOf,
  enumerateDevices,
  fallbackDevice,
  loadChoices,
  lostDeviceNotice,
  saveChoices,
  selectedId,
  setSpeaker,
  speakerSelectable,
  type DeviceChoices,
  type DeviceLists,
  type DeviceOption,
} from './devices.ts';
import { describeMediaError, mediaDevicesAvailable, openDevice, type LocalTracks } from './localMedia.ts';
import { MicMeter } from './micMeter.ts';
import { openExact, PrejoinMedia } from './prejoin.ts';
import { addNotice, clearNotice, type RoomStore } from './roomStore.ts';

type Source = 'mic' | 'camera';
const KIND = { mic: 'audio', camera: 'video' } as const;
const WHAT = { mic: 'microphone', camera: 'camera' } as const;
const IN_USE = { mic: 'micId', camera: 'cameraId' } as const;
/** How long "Switched to …" stays up. */
const NOTICE_MS = 10_000;

/** One <option> of a device select. */
export interface OptionView extends DeviceOption {
  key: string;
  selected: boolean;
}

/** A select's options; an empty list still shows one line saying so. */
export function optionViews(options: readonly DeviceOption[], selected: string | null, empty: string): OptionView[] {
  if (options.length === 0) return [{ key: 'none', id: '', label: empty, selected: true }];
  return options.map((o, i) => ({ ...o, key: `${i}:${o.id}`, selected: o.id === selected }));
}

/**
 * Devices on the call page: the pre-join screen's preview, microphone meter, device selects and
 * "join with camera off / muted" boxes, then the Settings dialog's selects during the call, and the
 * fallback when a device goes away. Bindings of the page's Alpine component, merged into it by
 * room.ts like the stage's; `this` is the component (its `state` and `needsName` come from room.ts).
 */
export function deviceBindings() {
  let call: Call | undefined;
  let prejoin: PrejoinMedia | undefined;
  let meter: MicMeter | undefined;
  /** In-call switches run one after another (a quick second pick waits for the first). */
  let switching: Promise<void> = Promise.resolve();
  return {
    hasPreview: false,
    previewNote: 'Starting camera…',
    /** Safari: camera and microphone wait for a tap on "Turn on camera and microphone". */
    mediaWaitsForTap: false,
    deviceProblem: '',
    deviceLists: { cameras: [], mics: [], speakers: [] } as DeviceLists,
    deviceChoices: loadChoices() as DeviceChoices,
    /** The devices our tracks come from now (a select shows these rather than the remembered pick). */
    devicesInUse: { cameraId: '', micId: '' },
    settingsOpen: false,
    speakerSelectable: speakerSelectable(),

    get cameraOptions(): OptionView[] {
      const list = this.deviceLists.cameras;
      return optionViews(list, selectedId(list, this.devicesInUse.cameraId, this.deviceChoices.cameraId), 'No camera found');
    },
    get micOptions(): OptionView[] {
      const list = this.deviceLists.mics;
      return optionViews(list, selectedId(list, this.devicesInUse.micId, this.deviceChoices.micId), 'No microphone found');
    },
    get speakerOptions(): OptionView[] {
      const list = this.deviceLists.speakers;
      return optionViews(list, selectedId(list, this.deviceChoices.speakerId), 'System default');
    },
    get noCameras() {
      return this.deviceLists.cameras.length === 0;
    },
    get noMics() {
      return this.deviceLists.mics.length === 0;
    },
    get noSpeakers() {
      return this.deviceLists.speakers.length === 0;
    },
    get noPreview() {
      return !this.hasPreview;
    },
    get hasDeviceProblem() {
      return this.deviceProblem !== '';
    },
    get joinCameraOff() {
      return this.deviceChoices.cameraOff;
    },
    get joinMuted() {
      return this.deviceChoices.muted;
    },

    /** From init: takes camera and microphone with the remembered choices, and hooks the call's devices up. */
    startDevices(this: any, theCall: Call) {
      call = theCall;
      const meterElement: HTMLElement | undefined = this.$refs.meter;
      if (meterElement) meter = new MicMeter(meterElement);
      call.local.openCamera = async () => {
        const track = await openDevice('video', this.deviceChoices.cameraId);
        this.devicesInUse.cameraId = deviceIdOf(track) || this.devicesInUse.cameraId;
        return track;
      };
      // After a switch in progress (on some phones opening a camera ends the other one: that is no unplug).
      call.local.onTrackEnded = (source, track) => void (switching = switching.then(() => this.replaceLost(source, track)).catch(() => {}));
      call.view.onAudioElement = (audio) => {
        const id: string | null = this.deviceChoices.speakerId;
        if (id) void setSpeaker(audio, id);
      };
      if (!window.isSecureContext || !mediaDevicesAvailable()) {
        this.previewNote = 'Camera unavailable';
        return;
      }
      prejoin = new PrejoinMedia(() => this.prejoinChanged());
      // Labels come with permission: the lists are read again once the devices are open.
      void this.refreshDevices();
      // Safari asks for the camera only from a tap: wait for one (the Join click counts too).
      if (mediaNeedsGesture(navigator.userAgent)) {
        this.mediaWaitsForTap = true;
        this.previewNote = 'Camera and microphone are off until you turn them on';
        return;
      }
      this.startMedia();
    },

    /** Opens camera and microphone for the pre-join screen (at once, or from the tap Safari wants). */
    startMedia(this: any) {
      this.mediaWaitsForTap = false;
      void prejoin?.start({ ...this.deviceChoices }).then(() => this.refreshDevices());
      navigator.mediaDevices.addEventListener?.('devicechange', () => void this.refreshDevices());
    },

    async refreshDevices(this: any) {
      this.deviceLists = await enumerateDevices();
    },

    /** The tracks the call starts with: the pre-join screen's, as the boxes say. */
    joinTracks(this: any): Promise<LocalTracks> {
      if (this.mediaWaitsForTap) this.startMedia();
      return prejoin ? prejoin.tracks({ ...this.deviceChoices }) : Promise.resolve({ audio: null, video: null, problem: null });
    },

    /** The pre-join screen closes: the meter stops, the preview lets go of the camera. */
    leavePrejoin(this: any) {
      if (prejoin) prejoin.active = false;
      meter?.stop();
      const preview: HTMLVideoElement | undefined = this.$refs.preview;
      if (preview) preview.srcObject = null;
      this.hasPreview = false;
    },

    /** Back on the pre-join screen (the join was refused). */
    backToPrejoin(this: any) {
      if (prejoin) prejoin.active = true;
      if (prejoin?.audio) prejoin.audio.enabled = true;
      this.prejoinChanged();
    },

    prejoinChanged(this: any) {
      if (!prejoin) return;
      for (const [source, track] of [['camera', prejoin.video], ['mic', prejoin.audio]] as const) {
        const id = deviceIdOf(track);
        if (id) this.devicesInUse[IN_USE[source]] = id;
      }
      this.deviceProblem = prejoin.problem ?? '';
      if (!this.needsName) return;
      const video = prejoin.video;
      this.hasPreview = video !== null;
      this.previewNote = this.deviceChoices.cameraOff ? 'Your camera is off' : prejoin.starting ? 'Starting camera…' : 'Camera not available';
      const preview: HTMLVideoElement | undefined = this.$refs.preview;
      if (preview && (preview.srcObject as MediaStream | null)?.getVideoTracks()[0] !== (video ?? undefined)) {
        preview.srcObject = video ? new MediaStream([video]) : null;
      }
      meter?.attach(prejoin.audio);
    },

    // ——— The selects and boxes (pre-join screen and Settings dialog) ———

    pickCamera(this: any) {
      this.pickDevice('camera', (this.$event.target as HTMLSelectElement).value);
    },
    pickMic(this: any) {
      this.pickDevice('mic', (this.$event.target as HTMLSelectElement).value);
    },
    pickDevice(this: any, source: Source, id: string) {
      this.deviceChoices[source === 'mic' ? 'micId' : 'cameraId'] = id || null;
      this.devicesInUse[IN_USE[source]] = id;
      saveChoices({ ...this.deviceChoices });
      if (this.needsName) void prejoin?.pick(KIND[source], id, { ...this.deviceChoices });
      else switching = switching.then(() => this.switchInCall(source, id)).catch(() => {});
    },

    /** During the call: the new device's track replaces the old one on its producer. A camera that is off is only remembered. */
    async switchInCall(this: any, source: Source, id: string) {
      const state: RoomStore = this.state;
      if (!call || (source === 'camera' && !state.local.cameraOn)) return;
      const old = call.local.track(source);
      try {
        // Busy (phones open one camera at a time): the old track goes first, then the new one is tried again.
        const track = await openExact(KIND[source], id, () => old?.stop());
        await call.local.useTrack(source, track);
        this.deviceProblem = '';
        clearNotice(this.state, `lost-${source}`);
        const actual = deviceIdOf(track);
        if (actual) this.devicesInUse[IN_USE[source]] = actual;
      } catch (error) {
        this.deviceProblem = describeMediaError(error, WHAT[source]);
        // The select goes back to the device still in use; one let go for nothing is replaced like an unplugged one.
        if (old?.readyState === 'live') this.devicesInUse[IN_USE[source]] = deviceIdOf(old);
        else if (old) await this.replaceLost(source, old);
      }
    },

    async pickSpeaker(this: any) {
      const id = (this.$event.target as HTMLSelectElement).value;
      this.deviceChoices.speakerId = id || null;
      saveChoices({ ...this.deviceChoices });
      const elements = [...document.querySelectorAll<HTMLAudioElement>('#remote-audio audio')];
      const done = await Promise.all(elements.map((element) => setSpeaker(element, id || null)));
      this.deviceProblem = done.every(Boolean) ? '' : 'That speaker could not be used. Pick another one.';
    },

    toggleJoinCameraOff(this: any) {
      this.deviceChoices.cameraOff = (this.$event.target as HTMLInputElement).checked;
      saveChoices({ ...this.deviceChoices });
      void prejoin?.setCameraOff({ ...this.deviceChoices });
    },
    toggleJoinMuted(this: any) {
      this.deviceChoices.muted = (this.$event.target as HTMLInputElement).checked;
      saveChoices({ ...this.deviceChoices });
    },

    /** A device went away mid-call: another one of its kind takes over, or it goes off; a notice says which. */
    async replaceLost(this: any, source: Source, track: MediaStreamTrack) {
      const state: RoomStore = this.state;
      // Still on the pre-join screen (a refused join), the pre-join media handles it; a replaced track is no loss.
      if (!call || this.needsName || call.local.track(source) !== track) return;
      await this.refreshDevices();
      const lostId = deviceIdOf(track) || this.devicesInUse[IN_USE[source]];
      let options: DeviceOption[] = source === 'mic' ? this.deviceLists.mics : this.deviceLists.cameras;
      for (let next = fallbackDevice(options, lostId); next; next = fallbackDevice(options, lostId)) {
        try {
          const fresh = await openDevice(KIND[source], next.id, true);
          await call.local.useTrack(source, fresh);
          this.devicesInUse[IN_USE[source]] = deviceIdOf(fresh) || next.id;
          const text = lostDeviceNotice(WHAT[source], next);
          addNotice(state, `lost-${source}`, 'info', text);
          setTimeout(() => state.notices.some((n) => n.key === `lost-${source}` && n.text === text) && clearNotice(state, `lost-${source}`), NOTICE_MS);
          return;
        } catch {
          const failed = next.id;
          options = options.filter((o) => o.id !== failed);
        }
      }
      if (source === 'camera' && state.local.cameraOn) await call.local.toggleCamera();
      if (source === 'mic') {
        if (state.local.micOn) await call.local.toggleMic();
        state.local.micAvailable = false;
      }
      addNotice(state, `lost-${source}`, 'warn', lostDeviceNotice(WHAT[source], null));
    },

    // ——— Settings dialog ———

    openSettings(this: any) {
      this.settingsOpen = true;
      this.deviceProblem = '';
      void this.refreshDevices();
      // x-show shows the dialog a frame later (requestAnimationFrame): focus moves in once it is there.
      const select = (this.$refs.settingsDialog as HTMLElement | undefined)?.querySelector('select');
      const focusWhenShown = (tries: number) => {
        if (!this.settingsOpen || !select) return;
        if (select.offsetParent !== null) select.focus();
        else if (tries > 0) setTimeout(() => focusWhenShown(tries - 1), 16);
      };
      focusWhenShown(30);
    },
    /** Tab and Shift+Tab go round inside the open dialog. */
    trapSettingsFocus(this: any) {
      const event = this.$event as KeyboardEvent;
      const dialog = this.$refs.settingsDialog as HTMLElement;
      const items = [...dialog.querySelectorAll<HTMLElement>('button, select')].filter((el) => !(el as HTMLButtonElement).disabled && el.offsetParent !== null);
      const [first, last] = [items[0], items.at(-1)];
      const wrapTo = event.shiftKey ? (document.activeElement === first ? last : undefined) : document.activeElement === last ? first : undefined;
      if (!wrapTo) return;
      event.preventDefault();
      wrapTo.focus();
    },
    closeSettings(this: any) {
      if (!this.settingsOpen) return;
      this.settingsOpen = false;
      this.$nextTick(() => (this.$refs.settingsButton as HTMLElement | undefined)?.focus());
    },
  };
}
