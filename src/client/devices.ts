/**
 * Camera, microphone and speaker choices: the device lists the selects show, the choices remembered
 * in localStorage, and which device to fall back to when one goes away. The top half is pure (unit
 * tested); the rest talks to the browser.
 */

export type DeviceKind = 'videoinput' | 'audioinput' | 'audiooutput';

/** One entry of a device select. An empty id is the browser's default device (lists made before permission have only that). */
export interface DeviceOption {
  id: string;
  label: string;
}

export interface DeviceLists {
  cameras: DeviceOption[];
  mics: DeviceOption[];
  speakers: DeviceOption[];
}

/** What the person picked, remembered across visits. A null id: the browser's default. */
export interface DeviceChoices {
  cameraId: string | null;
  micId: string | null;
  speakerId: string | null;
  cameraOff: boolean;
  muted: boolean;
}

export const DEFAULT_CHOICES: DeviceChoices = { cameraId: null, micId: null, speakerId: null, cameraOff: false, muted: false };

export const CHOICES_KEY = 'parley.devices';

const NOUNS: Record<DeviceKind, string> = { videoinput: 'Camera', audioinput: 'Microphone', audiooutput: 'Speaker' };

/** The devices of one kind, each once, named; unnamed ones (no permission yet) become "Camera 1", "Camera 2"… */
export function labelDevices(devices: readonly Pick<MediaDeviceInfo, 'deviceId' | 'kind' | 'label'>[], kind: DeviceKind): DeviceOption[] {
  const options: DeviceOption[] = [];
  const seen = new Set<string>();
  for (const device of devices) {
    if (device.kind !== kind || seen.has(device.deviceId)) continue;
    seen.add(device.deviceId);
    options.push({ id: device.deviceId, label: device.label.trim() || `${NOUNS[kind]} ${options.length + 1}` });
  }
  return options;
}

export function listsOf(devices: readonly Pick<MediaDeviceInfo, 'deviceId' | 'kind' | 'label'>[]): DeviceLists {
  return { cameras: labelDevices(devices, 'videoinput'), mics: labelDevices(devices, 'audioinput'), speakers: labelDevices(devices, 'audiooutput') };
}

const MAX_ID = 512;
const idOf = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 && value.length <= MAX_ID ? value : null);

/** Stored choices, read defensively: anything missing, mistyped or not JSON is the default. */
export function parseChoices(text: string | null | undefined): DeviceChoices {
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? '');
  } catch {
    return { ...DEFAULT_CHOICES };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ...DEFAULT_CHOICES };
  const r = raw as Record<string, unknown>;
  return { cameraId: idOf(r.cameraId), micId: idOf(r.micId), speakerId: idOf(r.speakerId), cameraOff: r.cameraOff === true, muted: r.muted === true };
}

/**
 * The device to use instead of `lostId` (unplugged, or failed): the system default when that is
 * another device, else the first other one; null when none is left.
 */
export function fallbackDevice(options: readonly DeviceOption[], lostId: string | null | undefined): DeviceOption | null {
  const others = options.filter((o) => o.id !== lostId && o.id !== '');
  return others.find((o) => o.id === 'default') ?? others[0] ?? null;
}

/** Which option a select shows as chosen: the device in use, else the remembered one, else the first. */
export function selectedId(options: readonly DeviceOption[], ...preferred: (string | null | undefined)[]): string | null {
  for (const id of preferred) if (id != null && options.some((o) => o.id === id)) return id;
  return options[0]?.id ?? null;
}

/** The notice after a device went away mid-call. */
export function lostDeviceNotice(what: 'camera' | 'microphone', next: DeviceOption | null): string {
  return next ? `Your ${what} was disconnected. Switched to ${next.label}.` : `Your ${what} was disconnected and no other ${what} was found. Connect one and pick it in Settings.`;
}

// ——— Browser ———

export function loadChoices(): DeviceChoices {
  try {
    return parseChoices(localStorage.getItem(CHOICES_KEY));
  } catch {
    return { ...DEFAULT_CHOICES };
  }
}

export function saveChoices(choices: DeviceChoices): void {
  try {
    localStorage.setItem(CHOICES_KEY, JSON.stringify(choices));
  } catch {
    // Private mode: the choices just are not remembered.
  }
}

/** Whether this browser can pick the speaker (HTMLMediaElement.setSinkId). */
export function speakerSelectable(): boolean {
  return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
}

export async function enumerateDevices(): Promise<DeviceLists> {
  try {
    return listsOf(await navigator.mediaDevices.enumerateDevices());
  } catch {
    return { cameras: [], mics: [], speakers: [] };
  }
}

/** Plays `element` through speaker `id` (null: the default). Resolves false when the browser refused. */
export async function setSpeaker(element: HTMLMediaElement, id: string | null): Promise<boolean> {
  const media = element as HTMLMediaElement & { setSinkId?: (id: string) => Promise<void> };
  if (!media.setSinkId) return false;
  try {
    await media.setSinkId(id ?? '');
    return true;
  } catch {
    return false;
  }
}

/** The id of the device a track comes from (empty when the browser does not say). */
export function deviceIdOf(track: MediaStreamTrack | null | undefined): string {
  return track?.getSettings?.().deviceId ?? '';
}
