import type { Page } from '@playwright/test';
import { cameraTile, expect, expectPlaying, SCREENSHOTS, test, type OpenOptions, type People } from './fixtures.ts';

const PHONE = { width: 390, height: 844 };

/**
 * Chromium's fake-device flags give one camera and one microphone. This adds a second of each, as
 * honest as it gets without hardware: "Canvas Camera" is an animated canvas, "Tone Microphone" a
 * 440 Hz oscillator. `window.fakeDevices.unplugCamera()` takes the canvas camera away as a real
 * unplug does: gone from the list, its track ended.
 */
function addFakeDevices() {
  const md = navigator.mediaDevices;
  const realEnumerate = md.enumerateDevices.bind(md);
  const realGetUserMedia = md.getUserMedia.bind(md);
  const fake = { cameraPlugged: true, camera: null as MediaStreamTrack | null, unplugCamera() {} };
  (window as any).fakeDevices = fake;
  const camera = { deviceId: 'canvas-camera', groupId: 'canvas', kind: 'videoinput', label: 'Canvas Camera', toJSON() {} };
  const mic = { deviceId: 'tone-mic', groupId: 'tone', kind: 'audioinput', label: 'Tone Microphone', toJSON() {} };
  md.enumerateDevices = async () => [...(await realEnumerate()), ...(fake.cameraPlugged ? [camera] : []), mic] as MediaDeviceInfo[];
  const wanted = (c: boolean | MediaTrackConstraints | undefined) => {
    const id = typeof c === 'object' ? c.deviceId : undefined;
    return typeof id === 'string' ? id : Array.isArray(id) ? id[0] : ((id as ConstrainDOMStringParameters | undefined)?.exact ?? (id as ConstrainDOMStringParameters | undefined)?.ideal);
  };
  const canvasTrack = () => {
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 360;
    const g = canvas.getContext('2d')!;
    let n = 0;
    const timer = setInterval(() => {
      n++;
      g.fillStyle = `hsl(${(n * 7) % 360} 70% 45%)`;
      g.fillRect(0, 0, 640, 360);
      g.fillStyle = '#fff';
      g.font = '64px sans-serif';
      g.fillText(`canvas ${n}`, 40, 200);
    }, 33);
    const track = canvas.captureStream(30).getVideoTracks()[0]!;
    const stop = track.stop.bind(track);
    track.stop = () => {
      clearInterval(timer);
      stop();
    };
    fake.camera = track;
    return track;
  };
  const toneTrack = () => {
    const context = new AudioContext();
    const oscillator = context.createOscillator();
    oscillator.frequency.value = 440;
    const gain = context.createGain();
    gain.gain.value = 0.5;
    const destination = context.createMediaStreamDestination();
    oscillator.connect(gain).connect(destination);
    oscillator.start();
    return destination.stream.getAudioTracks()[0]!;
  };
  md.getUserMedia = async (constraints: MediaStreamConstraints = {}) => {
    const tracks: MediaStreamTrack[] = [];
    const rest = { ...constraints };
    if (wanted(constraints.video) === 'canvas-camera' && fake.cameraPlugged) {
      tracks.push(canvasTrack());
      delete rest.video;
    }
    if (wanted(constraints.audio) === 'tone-mic') {
      tracks.push(toneTrack());
      delete rest.audio;
    }
    if (rest.audio || rest.video) tracks.push(...(await realGetUserMedia(rest)).getTracks());
    return new MediaStream(tracks);
  };
  fake.unplugCamera = () => {
    fake.cameraPlugged = false;
    const track = fake.camera;
    track?.stop();
    track?.dispatchEvent(new Event('ended'));
    md.dispatchEvent(new Event('devicechange'));
  };
}

const select = (page: Page, name: string) => page.getByRole('combobox', { name, exact: true });
const control = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

/** Opens the room's pre-join screen, sets it up with `setup`, and joins. */
async function joinWith(people: People, roomId: string, name: string, setup: (page: Page) => Promise<void>, options: OpenOptions = {}): Promise<Page> {
  const page = await people.open(`/r/${roomId}`, options);
  await setup(page);
  await page.getByRole('textbox', { name: 'Your name' }).fill(name);
  await page.getByRole('button', { name: 'Join call' }).click();
  await expect(page.locator('.status-dot.is-connected')).toBeVisible();
  return page;
}

/** What `page` receives of `from`'s media of `kind`: the consumer and its counters. */
async function received(page: Page, from: string, kind: 'audio' | 'video'): Promise<{ consumerId: string; framesDecoded: number; packetsReceived: number } | undefined> {
  return page.evaluate(
    async ({ from, kind }) => {
      const parley = (window as any).parley;
      const userId = Object.values(parley.state.participants as Record<string, { id: string; name: string }>).find((p) => p.name === from)?.id;
      return (await parley.stats()).consumers.find((c: any) => c.userId === userId && c.kind === kind && c.source !== 'screen');
    },
    { from, kind },
  );
}

/** Frames of `from`'s camera keep being decoded on `page`, by the same consumer (no renegotiation). */
async function expectVideoAdvancing(page: Page, from: string, consumerId: string): Promise<void> {
  const before = (await received(page, from, 'video'))!;
  expect(before.consumerId).toBe(consumerId);
  await expect.poll(async () => (await received(page, from, 'video'))!.framesDecoded, { timeout: 15_000 }).toBeGreaterThan(before.framesDecoded + 30);
}

/**
 * How steadily loud the remote microphone sounds on `page`: the quietest RMS of ten reads over half a
 * second of what its <audio> plays (the tone is steady; Chromium's fake microphone only beeps now and then).
 */
function remoteAudioLevel(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const element = document.querySelector<HTMLAudioElement>('#remote-audio audio[data-source="mic"]')!;
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    context.createMediaStreamSource(element.srcObject as MediaStream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    let quietest = Infinity;
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 50));
      analyser.getFloatTimeDomainData(samples);
      quietest = Math.min(quietest, Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length));
    }
    await context.close();
    return quietest;
  });
}

test('the pre-join screen shows the preview, a microphone meter and the device selects, and remembers the choices', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const page = await people.open(`/r/${roomId}`, { initScript: addFakeDevices });
  const meter = page.getByRole('meter', { name: 'Microphone level' });
  await expect(meter).toBeVisible();
  await expect(meter).toHaveAttribute('aria-valuemin', '0');
  await expect(meter).toHaveAttribute('aria-valuemax', '100');
  // Chromium's fake microphone beeps: the meter moves.
  await expect.poll(async () => Number(await meter.getAttribute('aria-valuenow')), { timeout: 20_000 }).toBeGreaterThan(0);
  await expect(page.getByRole('dialog').locator('video')).toBeVisible();
  for (const name of ['Camera', 'Microphone', 'Speaker']) await expect(select(page, name)).toBeVisible();
  // With permission the devices have their names.
  await expect(select(page, 'Camera').locator('option')).toHaveText([/fake/i, 'Canvas Camera']);
  await expect(select(page, 'Microphone').locator('option', { hasText: 'Tone Microphone' })).toHaveCount(1);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SCREENSHOTS}/prejoin-desktop.png` });

  // Another camera shows in the preview at once.
  await select(page, 'Camera').selectOption({ label: 'Canvas Camera' });
  await expect.poll(() => page.evaluate(() => ((document.querySelector('.prejoin-preview') as HTMLVideoElement).srcObject as MediaStream)?.getVideoTracks()[0] === (window as any).fakeDevices.camera)).toBe(true);
  // The tone microphone is loud and steady: the meter follows the picked microphone.
  await select(page, 'Microphone').selectOption({ label: 'Tone Microphone' });
  await expect.poll(async () => Number(await meter.getAttribute('aria-valuenow'))).toBeGreaterThan(50);

  await page.getByRole('checkbox', { name: 'Join with camera off' }).check();
  await expect(page.getByText('Your camera is off')).toBeVisible();
  await expect(page.locator('.prejoin-preview')).toBeHidden();
  await page.getByRole('checkbox', { name: 'Join muted' }).check();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SCREENSHOTS}/prejoin-camera-off.png` });

  await page.reload();
  await expect(page.getByRole('checkbox', { name: 'Join with camera off' })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'Join muted' })).toBeChecked();
  await expect(select(page, 'Microphone')).toHaveValue('tone-mic');
  await expect(select(page, 'Camera')).toHaveValue('canvas-camera');
  await expect(page.getByText('Your camera is off')).toBeVisible();
  // The camera stays off (its light too) until the box is unticked.
  await page.getByRole('checkbox', { name: 'Join with camera off' }).uncheck();
  await expect(page.locator('.prejoin-preview')).toBeVisible();
  expect(await people.problems(page)).toEqual([]);

  // A camera in use elsewhere is explained on the pre-join screen, with what to do.
  const busy = await people.open(`/r/${roomId}`, {
    viewport: PHONE,
    initScript: () => {
      const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = (c) => (c?.video ? Promise.reject(new DOMException('Could not start video source', 'NotReadableError')) : real(c));
    },
  });
  await expect(busy.getByRole('alert').filter({ hasText: 'Your camera is in use by another application. Close the app or browser tab that uses it' })).toBeVisible();
  await expect(busy.getByText('Camera not available', { exact: true })).toBeVisible();
  await busy.screenshot({ path: `${SCREENSHOTS}/prejoin-camera-busy-phone.png` });

  const phone = await people.open(`/r/${roomId}`, { viewport: PHONE });
  await expect.poll(async () => Number(await phone.getByRole('meter').getAttribute('aria-valuenow')), { timeout: 20_000 }).toBeGreaterThan(0);
  await expect(phone.locator('.prejoin-preview')).toBeVisible();
  await phone.screenshot({ path: `${SCREENSHOTS}/prejoin-phone.png` });
  // The device selects come after "Join call" on a phone: scrolled to, they fit too.
  await phone.locator('.modal-backdrop:has(.prejoin)').evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await phone.screenshot({ path: `${SCREENSHOTS}/prejoin-phone-scrolled.png` });
  // Nothing of the pre-join screen sticks out sideways on a phone.
  expect(await phone.locator('.modal.prejoin').evaluate((el) => el.scrollWidth - el.clientWidth)).toBe(0);
  const modal = await phone.locator('.modal.prejoin').boundingBox();
  expect(modal!.x).toBeGreaterThanOrEqual(0);
  expect(modal!.x + modal!.width).toBeLessThanOrEqual(PHONE.width);
});

test('"Join muted" and "Join with camera off" start the call that way, and both can be turned on', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await joinWith(people, roomId, 'Bob', async (page) => {
    await page.getByRole('checkbox', { name: 'Join muted' }).check();
    await page.getByRole('checkbox', { name: 'Join with camera off' }).check();
  });
  await expect(control(bob, 'Microphone')).toHaveAttribute('aria-pressed', 'false');
  await expect(control(bob, 'Camera')).toHaveAttribute('aria-pressed', 'false');
  await expect(control(bob, 'Camera')).toBeEnabled();
  const bobOnAlice = cameraTile(alice, 'Bob');
  await expect(bobOnAlice.locator('[data-indicator="mic-muted"]')).toBeVisible();
  await expect(bobOnAlice.locator('[data-indicator="camera-off"]')).toBeVisible();
  await expect(bobOnAlice.locator('.tile-avatar')).toBeVisible();
  // Muted means paused at the server: nothing of Bob's microphone reaches Alice.
  const producers = async () => (await bob.evaluate(() => (window as any).parley.stats())).producers as { source: string; paused: boolean }[];
  await expect.poll(async () => (await producers()).find((p) => p.source === 'mic')?.paused).toBe(true);
  expect((await producers()).some((p) => p.source === 'camera')).toBe(false);

  await control(bob, 'Microphone').click();
  await control(bob, 'Camera').click();
  await expect(bobOnAlice.locator('[data-indicator="mic-muted"]')).toBeHidden();
  await expect(bobOnAlice.locator('[data-indicator="camera-off"]')).toBeHidden();
  await expectPlaying([alice], 1);
  expect(await people.problems(bob)).toEqual([]);
});

test('Settings switches camera, microphone and speaker mid-call without interrupting the others, and an unplugged camera falls back', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice', { initScript: addFakeDevices });
  const bob = await people.join(roomId, 'Bob', { viewport: PHONE });
  await expectPlaying([alice, bob], 1);
  const video = (await received(bob, 'Alice', 'video'))!;
  const audio = (await received(bob, 'Alice', 'audio'))!;

  await control(alice, 'Settings').click();
  const dialog = alice.getByRole('dialog', { name: 'Settings' });
  await expect(dialog).toBeVisible();
  await expect(select(alice, 'Camera')).toBeFocused();
  for (const name of ['Camera', 'Microphone', 'Speaker']) await expect(dialog.getByRole('combobox', { name, exact: true })).toBeVisible();
  await alice.screenshot({ path: `${SCREENSHOTS}/settings-desktop.png` });

  // Camera: the same producer sends the canvas now; Bob's consumer keeps decoding, the old camera is stopped.
  await select(alice, 'Camera').selectOption({ label: 'Canvas Camera' });
  await expect.poll(() => alice.evaluate(() => ((document.querySelector('.tile.is-local video') as HTMLVideoElement).srcObject as MediaStream)?.getVideoTracks()[0] === (window as any).fakeDevices.camera)).toBe(true);
  await expectVideoAdvancing(bob, 'Alice', video.consumerId);

  // Microphone: Bob now hears the tone, through the same consumer.
  expect(await remoteAudioLevel(bob)).toBeLessThan(0.05); // beeps, with silence between
  await select(alice, 'Microphone').selectOption({ label: 'Tone Microphone' });
  await expect.poll(() => remoteAudioLevel(bob), { timeout: 15_000 }).toBeGreaterThan(0.05);
  const audioNow = (await received(bob, 'Alice', 'audio'))!;
  expect(audioNow.consumerId).toBe(audio.consumerId);
  expect(audioNow.packetsReceived).toBeGreaterThan(audio.packetsReceived);

  // Speaker: every remote <audio> plays through the chosen output.
  const speakers = await select(alice, 'Speaker').locator('option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
  const speaker = speakers.at(-1)!;
  await select(alice, 'Speaker').selectOption(speaker);
  await expect.poll(() => alice.locator('#remote-audio audio').evaluateAll((els) => els.map((el) => (el as HTMLAudioElement).sinkId))).toEqual([speaker]);
  await expect(dialog.getByRole('alert')).toBeHidden();

  // Tab goes round inside the dialog; Escape closes it and gives focus back to the button.
  await select(alice, 'Speaker').focus();
  await alice.keyboard.press('Tab');
  await expect(dialog.getByRole('button', { name: 'Close' })).toBeFocused();
  await alice.keyboard.press('Shift+Tab');
  await expect(select(alice, 'Speaker')).toBeFocused();
  await alice.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(control(alice, 'Settings')).toBeFocused();

  // On a phone the dialog fits the screen.
  await control(bob, 'Settings').click();
  const bobDialog = bob.getByRole('dialog', { name: 'Settings' });
  await expect(bobDialog).toBeVisible();
  const box = (await bobDialog.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
  await bob.screenshot({ path: `${SCREENSHOTS}/settings-phone.png` });
  await bobDialog.getByRole('button', { name: 'Close' }).click();
  await expect(bobDialog).toBeHidden();

  // The canvas camera is unplugged: Alice falls back to the other camera and says so; Bob keeps seeing her.
  await alice.evaluate(() => (window as any).fakeDevices.unplugCamera());
  await expect(alice.getByRole('status').filter({ hasText: 'Your camera was disconnected. Switched to' })).toBeVisible();
  await expect(control(alice, 'Camera')).toHaveAttribute('aria-pressed', 'true');
  await expectVideoAdvancing(bob, 'Alice', video.consumerId);
  // The select lists only what is there now.
  await control(alice, 'Settings').click();
  await expect(select(alice, 'Camera').locator('option')).toHaveText([/fake/i]);
  await alice.keyboard.press('Escape');

  // Someone who joins later is heard through the chosen speaker too.
  await people.join(roomId, 'Carol');
  await expect.poll(() => alice.locator('#remote-audio audio').evaluateAll((els) => els.map((el) => (el as HTMLAudioElement).sinkId))).toEqual([speaker, speaker]);
  expect(await people.problems(alice)).toEqual([]);
  expect(await people.problems(bob)).toEqual([]);
});
