import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optionViews } from '../../src/client/deviceBindings.ts';
import { DEFAULT_CHOICES, fallbackDevice, labelDevices, listsOf, lostDeviceNotice, parseChoices, selectedId, type DeviceChoices } from '../../src/client/devices.ts';
import { levelOf, smoothLevel } from '../../src/client/micMeter.ts';
import { PrejoinMedia } from '../../src/client/prejoin.ts';

const device = (kind: MediaDeviceKind, deviceId: string, label = '') => ({ kind, deviceId, label });

test('device lists: each kind apart, each device once, unnamed ones numbered', () => {
  const devices = [
    device('audioinput', 'default', 'Default - Built-in Microphone'),
    device('audioinput', 'm1', 'Built-in Microphone'),
    device('videoinput', 'c1', ''),
    device('videoinput', 'c2', '  '),
    device('videoinput', 'c1', ''),
    device('audiooutput', 's1', 'Headphones'),
  ];
  assert.deepEqual(labelDevices(devices, 'videoinput'), [
    { id: 'c1', label: 'Camera 1' },
    { id: 'c2', label: 'Camera 2' },
  ]);
  const lists = listsOf(devices);
  assert.deepEqual(lists.mics.map((m) => m.label), ['Default - Built-in Microphone', 'Built-in Microphone']);
  assert.deepEqual(lists.speakers, [{ id: 's1', label: 'Headphones' }]);
  // Before permission browsers list one nameless device per kind, with an empty id.
  assert.deepEqual(labelDevices([device('audioinput', ''), device('audiooutput', '')], 'audiooutput'), [{ id: '', label: 'Speaker 1' }]);
  assert.deepEqual(labelDevices([], 'audioinput'), []);
});

test('stored choices: read back as written, anything odd is the default', () => {
  const choices: DeviceChoices = { cameraId: 'c2', micId: 'default', speakerId: null, cameraOff: true, muted: false };
  assert.deepEqual(parseChoices(JSON.stringify(choices)), choices);
  for (const bad of [null, undefined, '', 'not json', '[]', '"text"', '42', 'null']) assert.deepEqual(parseChoices(bad), DEFAULT_CHOICES, String(bad));
  assert.deepEqual(parseChoices(JSON.stringify({ cameraId: 7, micId: '', speakerId: 'x'.repeat(600), cameraOff: 'yes', muted: 1, extra: true })), DEFAULT_CHOICES);
  assert.deepEqual(parseChoices(JSON.stringify({ muted: true })), { ...DEFAULT_CHOICES, muted: true });
  // The default object is never handed out to be changed.
  const parsed = parseChoices(null);
  parsed.muted = true;
  assert.equal(DEFAULT_CHOICES.muted, false);
});

test('fallback after a device went away: the system default if it is another, else the first other, else none', () => {
  const options = [
    { id: 'default', label: 'Default - USB Mic' },
    { id: 'usb', label: 'USB Mic' },
    { id: 'builtin', label: 'Built-in Mic' },
  ];
  assert.equal(fallbackDevice(options, 'usb')?.id, 'default');
  assert.equal(fallbackDevice(options, 'default')?.id, 'usb');
  assert.equal(fallbackDevice(options.slice(1), 'usb')?.id, 'builtin');
  assert.equal(fallbackDevice([{ id: 'usb', label: 'USB Mic' }], 'usb'), null);
  assert.equal(fallbackDevice([], null), null);
  // A nameless pre-permission entry is not a device to switch to.
  assert.equal(fallbackDevice([{ id: '', label: 'Camera 1' }], 'c1'), null);
  assert.equal(lostDeviceNotice('camera', { id: 'c2', label: 'FaceTime HD' }), 'Your camera was disconnected. Switched to FaceTime HD.');
  assert.match(lostDeviceNotice('microphone', null), /no other microphone was found/);
});

test('a select shows the device in use, else the remembered one, else the first; an empty list says so', () => {
  const options = [
    { id: 'a', label: 'A' },
    { id: 'b', label: 'B' },
  ];
  assert.equal(selectedId(options, 'b', 'a'), 'b');
  assert.equal(selectedId(options, '', 'a'), 'a');
  assert.equal(selectedId(options, 'gone', null), 'a');
  assert.equal(selectedId([], 'a'), null);
  assert.deepEqual(
    optionViews(options, 'b', 'No camera found').map((o) => [o.label, o.selected]),
    [
      ['A', false],
      ['B', true],
    ],
  );
  assert.deepEqual(optionViews([], null, 'No camera found'), [{ key: 'none', id: '', label: 'No camera found', selected: true }]);
});

test('microphone level: silence is 0, full scale is 100, speech in between; peaks fall back gently', () => {
  assert.equal(levelOf(new Float32Array(1024)), 0);
  assert.equal(levelOf([]), 0);
  assert.equal(levelOf(new Float32Array(1024).fill(1)), 100);
  const sine = (amplitude: number) => Float32Array.from({ length: 1024 }, (_, i) => amplitude * Math.sin((i / 1024) * 2 * Math.PI * 20));
  const quiet = levelOf(sine(0.003));
  const speech = levelOf(sine(0.1));
  assert.ok(quiet < 20 && speech > 60 && speech < 100, `${quiet} ${speech}`);
  assert.equal(smoothLevel(0, 70), 70);
  assert.equal(smoothLevel(70, 0), 56);
  assert.equal(smoothLevel(70, 90), 90);
});

// ——— The pre-join screen's tracks, against a fake getUserMedia ———

class FakeTrack extends EventTarget {
  readonly kind: 'audio' | 'video';
  readonly deviceId: string;
  readyState: 'live' | 'ended' = 'live';
  enabled = true;
  constructor(kind: 'audio' | 'video', deviceId: string) {
    super();
    this.kind = kind;
    this.deviceId = deviceId;
  }
  stop() {
    this.readyState = 'ended';
  }
  getSettings() {
    return { deviceId: this.deviceId };
  }
}

/** Devices by kind; `busy` ones fail with NotReadableError while one of our tracks of them is live. */
function fakeMedia(devices: { audio: string[]; video: string[] }, busy: string[] = []) {
  const opened: FakeTrack[] = [];
  const calls: MediaStreamConstraints[] = [];
  const pick = (kind: 'audio' | 'video', constraints: boolean | MediaTrackConstraints | undefined) => {
    if (!constraints) return undefined;
    const wanted = typeof constraints === 'object' ? (constraints.deviceId as ConstrainDOMStringParameters | undefined) : undefined;
    const exact = wanted?.exact as string | undefined;
    if (exact !== undefined && !devices[kind].includes(exact)) throw new DOMException('gone', 'OverconstrainedError');
    const id = exact ?? (devices[kind].includes(wanted?.ideal as string) ? (wanted!.ideal as string) : devices[kind][0]);
    if (id === undefined) throw new DOMException('none', 'NotFoundError');
    if (busy.includes(id) && opened.some((t) => t.deviceId === id && t.readyState === 'live')) throw new DOMException('busy', 'NotReadableError');
    const track = new FakeTrack(kind, id);
    opened.push(track);
    return track;
  };
  const mediaDevices = {
    async getUserMedia(constraints: MediaStreamConstraints) {
      calls.push(constraints);
      const tracks = [pick('audio', constraints.audio), pick('video', constraints.video)].filter((t) => t !== undefined);
      return { getTracks: () => tracks, getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'), getVideoTracks: () => tracks.filter((t) => t.kind === 'video') };
    },
  };
  Object.defineProperty(globalThis.navigator, 'mediaDevices', { value: mediaDevices, configurable: true });
  return { opened, calls };
}

const choices = (patch: Partial<DeviceChoices> = {}): DeviceChoices => ({ ...DEFAULT_CHOICES, ...patch });
const idOf = (track: MediaStreamTrack | null) => (track as unknown as FakeTrack | null)?.deviceId ?? null;

test('pre-join: remembered devices are asked for as ideal; the tracks handed to the call follow the final boxes', async () => {
  const { calls, opened } = fakeMedia({ audio: ['m1', 'm2'], video: ['c1', 'c2'] });
  let changes = 0;
  const media = new PrejoinMedia(() => changes++);
  await media.start(choices({ micId: 'm2', cameraId: 'gone' }));
  assert.deepEqual((calls[0]!.audio as MediaTrackConstraints).deviceId, { ideal: 'm2' });
  assert.equal(idOf(media.audio), 'm2');
  assert.equal(idOf(media.video), 'c1'); // the remembered camera is gone: another one, no error
  assert.equal(media.problem, null);
  assert.ok(changes > 0);

  // Camera off at the click: the call gets no camera and the device is released.
  const tracks = await media.tracks(choices({ cameraOff: true, muted: true }));
  assert.equal(tracks.video, null);
  assert.equal(idOf(tracks.audio), 'm2');
  assert.equal(tracks.muted, true);
  assert.equal(opened.find((t) => t.kind === 'video')!.readyState, 'ended');
});

test('pre-join: "camera off" from the start never opens the camera; unticking it does', async () => {
  const { calls } = fakeMedia({ audio: ['m1'], video: ['c1', 'c2'] });
  const media = new PrejoinMedia(() => {});
  await media.start(choices({ cameraOff: true, cameraId: 'c2' }));
  assert.equal(calls[0]!.video, false);
  assert.equal(media.video, null);
  assert.equal(media.problem, null);
  await media.setCameraOff(choices({ cameraOff: false, cameraId: 'c2' }));
  assert.equal(idOf(media.video), 'c2');
});

test('pre-join: picking a device swaps it (the old one stops); a device that cannot be had keeps the old one and says why', async () => {
  const { opened } = fakeMedia({ audio: ['m1'], video: ['c1', 'c2'] }, ['c2']);
  const media = new PrejoinMedia(() => {});
  await media.start(choices());
  const first = media.video as unknown as FakeTrack;
  await media.pick('video', 'c2', choices());
  assert.equal(idOf(media.video), 'c2');
  assert.equal(first.readyState, 'ended');

  await media.pick('video', 'unplugged', choices());
  assert.equal(idOf(media.video), 'c2');
  assert.match(media.problem!, /No camera was found/);
  // The call is not told about a problem it does not have.
  assert.equal((await media.tracks(choices())).problem, null);
  // A busy device (here: our own track of it, as on phones) is released and opened again.
  await media.pick('video', 'c2', choices());
  assert.equal(idOf(media.video), 'c2');
  assert.equal(media.problem, null);
  assert.equal(opened.filter((t) => t.deviceId === 'c2' && t.readyState === 'live').length, 1);
});

test('pre-join: with no microphone at all the call is told, in plain words', async () => {
  fakeMedia({ audio: [], video: ['c1'] });
  const media = new PrejoinMedia(() => {});
  await media.start(choices());
  assert.equal(media.audio, null);
  assert.equal(idOf(media.video), 'c1');
  const tracks = await media.tracks(choices());
  assert.match(tracks.problem!, /No microphone was found\. Check that it is plugged in/);
});

test('pre-join: a device unplugged on the pre-join screen is replaced by the default one', async () => {
  fakeMedia({ audio: ['m1', 'm2'], video: ['c1'] });
  const media = new PrejoinMedia(() => {});
  await media.start(choices({ micId: 'm2' }));
  const mic = media.audio as unknown as FakeTrack;
  mic.readyState = 'ended';
  mic.dispatchEvent(new Event('ended'));
  await media.tracks(choices());
  assert.equal(idOf(media.audio), 'm1');
  // Once the call has the tracks, it handles unplugging itself.
  media.active = false;
  const next = media.audio as unknown as FakeTrack;
  next.dispatchEvent(new Event('ended'));
  await media.tracks(choices());
  assert.equal(media.audio, next as unknown as MediaStreamTrack);
});
