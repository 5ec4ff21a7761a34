/**
 * Browsers that cannot make a call get words, not a broken page; and what Safari and phones lack is
 * handled where it is lacking (simulated here by taking the API away: no WebKit runs on this machine).
 */
import { expect, expectPlaying, screenshot, test } from './fixtures.ts';

test('a browser without WebRTC is told what is wrong and what to open instead', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const page = await people.open(`/r/${roomId}`, {
    initScript: () => {
      delete (window as any).RTCPeerConnection;
      delete (window as any).webkitRTCPeerConnection;
    },
  });
  const dialog = page.getByRole('alertdialog', { name: 'This browser cannot make video calls' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Open the link in a current Chrome, Edge, Firefox or Safari');
  await expect(page.getByRole('button', { name: 'Join call' })).toBeHidden();
  expect(await people.problems(page)).toEqual([]);
  await screenshot(page, 'unsupported-no-webrtc');
});

test('an in-app browser is asked to open the link in a real browser', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const page = await people.open(`/r/${roomId}`, {
    viewport: { width: 390, height: 844 },
    initScript: () => Object.defineProperty(navigator, 'userAgent', { get: () => 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 300.0.0.0' }),
  });
  await expect(page.getByRole('alertdialog', { name: 'Open this call in your browser' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Join call' })).toBeHidden();
  await screenshot(page, 'unsupported-in-app');
});

test('without getDisplayMedia (phones) there is no Share button; the call works', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const page = await people.join(roomId, 'Phone', {
    initScript: () => {
      if (navigator.mediaDevices) (navigator.mediaDevices as any).getDisplayMedia = undefined;
    },
  });
  await expect(page.getByRole('button', { name: 'Microphone', exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Share screen' })).toBeHidden();
});

/**
 * Runs in the page before its scripts: this Chromium then offers and answers H.264 only, as a stand-in
 * for a device that decodes nothing else (VP8, VP9 and AV1 are cut from every SDP it makes).
 */
function h264Only(): void {
  const strip = (sdp: string): string => {
    const sections = sdp.split(/\r\n(?=m=)/);
    return sections
      .map((section) => {
        if (!section.startsWith('m=video')) return section;
        const lines = section.split('\r\n');
        const drop = new Set<string>();
        for (const line of lines) {
          const match = /^a=rtpmap:(\d+) (VP8|VP9|AV1)\//i.exec(line);
          if (match) drop.add(match[1]!);
        }
        for (const line of lines) {
          const match = /^a=fmtp:(\d+) apt=(\d+)/.exec(line);
          if (match && drop.has(match[2]!)) drop.add(match[1]!);
        }
        return lines
          .filter((line) => !/^a=(rtpmap|fmtp|rtcp-fb):(\d+)/.test(line) || !drop.has(/^a=\w+(?:-\w+)?:(\d+)/.exec(line)![1]!))
          .map((line) => (line.startsWith('m=video') ? line.split(' ').filter((token, i) => i < 3 || !drop.has(token)).join(' ') : line))
          .join('\r\n');
      })
      .join('\r\n');
  };
  for (const method of ['createOffer', 'createAnswer'] as const) {
    const original = RTCPeerConnection.prototype[method] as (...args: unknown[]) => Promise<RTCSessionDescriptionInit>;
    (RTCPeerConnection.prototype as any)[method] = async function (this: RTCPeerConnection, ...args: unknown[]) {
      const description = await original.apply(this, args);
      return { type: description.type, sdp: strip(description.sdp ?? '') };
    };
  }
}

test('an H.264-only client and VP8 clients see each other: the room sends in a codec everyone decodes', async ({ people, newRoom, server }) => {
  const roomId = await newRoom();
  const alice = await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob');
  await expectPlaying([alice, bob], 1);
  const cameraCodecs = () =>
    [...server.registry.get(roomId)!.peers.values()].map((peer) => [...peer.producers.values()].find((p) => p.kind === 'video')?.rtpParameters.codecs[0]?.mimeType);
  expect(cameraCodecs()).toEqual(['video/VP8', 'video/VP8']);

  const ivy = await people.join(roomId, 'Ivy', { initScript: h264Only });
  await expectPlaying([alice, bob, ivy], 2);
  await expect.poll(cameraCodecs, { timeout: 20_000 }).toEqual(['video/H264', 'video/H264', 'video/H264']);
  // Ivy's own page really only handles H.264.
  expect(await ivy.evaluate(() => RTCRtpReceiver.getCapabilities('video')!.codecs.some((c) => c.mimeType === 'video/VP8'))).toBe(true); // the browser could…
  const ivyCodecs = await ivy.evaluate(async () => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    const offer = await pc.createOffer();
    pc.close();
    return offer.sdp!.match(/a=rtpmap:\d+ (\w+)\//g)!.map((l) => l.split(' ')[1]!.split('/')[0]);
  });
  expect(ivyCodecs).not.toContain('VP8'); // …but this client offers no VP8.
  expect(ivyCodecs).toContain('H264');

  // Ivy leaves: back to VP8 for everyone.
  await ivy.getByRole('button', { name: 'End call' }).click();
  await expect.poll(cameraCodecs, { timeout: 20_000 }).toEqual(['video/VP8', 'video/VP8']);
  await expectPlaying([alice, bob], 1);
});

test('Safari: camera and microphone are asked for only from a tap', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const page = await people.open(`/r/${roomId}`, {
    initScript: () => {
      Object.defineProperty(navigator, 'userAgent', { get: () => 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1' });
      const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      (window as any).gumCalls = 0;
      navigator.mediaDevices.getUserMedia = (constraints) => {
        (window as any).gumCalls++;
        return original(constraints);
      };
    },
  });
  const turnOn = page.getByRole('button', { name: 'Turn on camera and microphone' });
  await expect(turnOn).toBeVisible();
  expect(await page.evaluate(() => (window as any).gumCalls)).toBe(0);
  await turnOn.click();
  await expect(page.getByLabel('Your camera preview')).toBeVisible();
  expect(await page.evaluate(() => (window as any).gumCalls)).toBeGreaterThan(0);
  await expect(turnOn).toBeHidden();
});

test('Safari and iOS: sound blocked from autoplaying starts with one tap', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  await people.join(roomId, 'Alice');
  const bob = await people.join(roomId, 'Bob', {
    initScript: () => {
      // As WebKit does at its strictest: sound may start only while a tap is being handled.
      let inGesture = false;
      document.addEventListener('click', () => {
        inGesture = true;
        setTimeout(() => (inGesture = false));
      }, { capture: true });
      Object.defineProperty(HTMLAudioElement.prototype, 'autoplay', { configurable: true, get: () => false, set: () => {} });
      const play = HTMLMediaElement.prototype.play;
      HTMLMediaElement.prototype.play = function (this: HTMLMediaElement) {
        if (!inGesture && this instanceof HTMLAudioElement) return Promise.reject(new DOMException('play() needs a user gesture', 'NotAllowedError'));
        return play.call(this);
      };
    },
  });
  await expect(bob.getByText('Click anywhere to hear the others.')).toBeVisible();
  await expect.poll(() => bob.locator('#remote-audio audio').evaluateAll((els) => els.filter((el) => !(el as HTMLAudioElement).paused).length)).toBe(0);
  await bob.locator('.stage').click({ position: { x: 5, y: 5 } });
  await expect(bob.getByText('Click anywhere to hear the others.')).toBeHidden();
  await expect.poll(() => bob.locator('#remote-audio audio').evaluateAll((els) => els.filter((el) => !(el as HTMLAudioElement).paused).length)).toBe(1);
});

test('without setSinkId (Safari, Firefox) there is no Speaker picker; Camera and Microphone stay', async ({ people, newRoom }) => {
  const roomId = await newRoom();
  const page = await people.open(`/r/${roomId}`, { initScript: () => void delete (HTMLMediaElement.prototype as any).setSinkId });
  const prejoin = page.getByRole('dialog', { name: 'Ready to join?' });
  await expect(prejoin.getByRole('combobox', { name: 'Camera', exact: true })).toBeVisible();
  await expect(prejoin.getByRole('combobox', { name: 'Microphone', exact: true })).toBeVisible();
  await expect(page.getByRole('combobox', { name: 'Speaker', exact: true })).toHaveCount(0);
});
