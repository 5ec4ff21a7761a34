/**
 * Browsers that cannot make a call get words, not a broken page; and what Safari and phones lack is
 * handled where it is lacking (simulated here by taking the API away: no WebKit runs on this machine).
 */
import { expect, screenshot, test } from './fixtures.ts';

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
