import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRoomStore, listTiles } from '../../src/client/roomStore.ts';
import { tileViewOf } from '../../src/client/stage.ts';

(globalThis as { MediaStream?: unknown }).MediaStream ??= class {};

test('tile views: names, labels, badges and pin labels', () => {
  const store = createRoomStore('room-1', 'me');
  store.upsertParticipant('me', { name: 'Me', micMuted: false, cameraOff: true });
  store.upsertParticipant('ada', { name: 'Ada Lovelace', micMuted: true, cameraOff: false });
  store.updateParticipantTracks('ada', 'camera', {} as MediaStreamTrack);
  store.updateParticipantTracks('ada', 'screen', {} as MediaStreamTrack);
  const [mine, adaCamera, adaScreen] = listTiles(store).map((tile) => tileViewOf(store, tile));
  assert.equal(mine!.name, 'Me (you)');
  assert.equal(mine!.showAvatar, true, 'camera off: avatar');
  assert.equal(mine!.initials, 'M');
  assert.equal(adaCamera!.label, 'Ada Lovelace');
  assert.equal(adaCamera!.initials, 'AL');
  assert.equal(adaCamera!.micMuted, true);
  assert.equal(adaCamera!.showVideo, true);
  assert.equal(adaScreen!.name, 'Ada Lovelace · screen');
  assert.equal(adaScreen!.label, "Ada Lovelace's screen");
  assert.equal(adaScreen!.micMuted, false, 'a screen tile shows no mic badge');
  assert.equal(adaScreen!.pinLabel, "Pin Ada Lovelace's screen");
  store.setPinnedParticipant('ada');
  assert.equal(tileViewOf(store, listTiles(store)[2]!).pinLabel, "Unpin Ada Lovelace's screen");
});

test('a participant without a name shows as Guest', () => {
  const store = createRoomStore('room-1', 'me');
  store.upsertParticipant('x', {});
  assert.equal(tileViewOf(store, listTiles(store)[0]!).name, 'Guest');
});
