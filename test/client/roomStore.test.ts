import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRoomStore, listTiles, media, spotlightKey, tileKey } from '../../src/client/roomStore.ts';

// Node has no MediaStream; the store only wraps tracks in one.
class FakeMediaStream {
  readonly tracks: unknown[];
  constructor(tracks: unknown[]) {
    this.tracks = tracks;
  }
}
(globalThis as { MediaStream?: unknown }).MediaStream ??= FakeMediaStream;
const track = {} as MediaStreamTrack;

function room() {
  const store = createRoomStore('room-1', 'me');
  store.upsertParticipant('me', { name: 'Me' });
  store.upsertParticipant('ada', { name: 'Ada' });
  store.upsertParticipant('bob', { name: 'Bob' });
  return store;
}

test('participants keep join order; unknown ids such as __proto__ are plain keys', () => {
  const store = room();
  store.upsertParticipant('__proto__', { name: 'Proto' });
  assert.deepEqual(store.order, ['me', 'ada', 'bob', '__proto__']);
  assert.equal(store.participants['__proto__']?.name, 'Proto');
  assert.equal(store.participants.me?.isLocal, true);
  assert.equal(store.participants.ada?.isLocal, false);
  store.removeParticipant('ada');
  assert.deepEqual(store.order, ['me', 'bob', '__proto__']);
});

test('a screen share adds a tile, switches to spotlight and back when it ends', () => {
  const store = room();
  assert.equal(store.layout, 'grid');
  store.updateParticipantTracks('bob', 'screen', track);
  assert.equal(store.layout, 'spotlight');
  assert.deepEqual(listTiles(store).map((t) => t.key), ['me:camera', 'ada:camera', 'bob:camera', 'bob:screen']);
  assert.equal(spotlightKey(store, listTiles(store)), 'bob:screen');
  assert.ok(media.get(tileKey('bob', 'screen')));
  store.updateParticipantTracks('bob', 'screen', null);
  assert.equal(store.layout, 'grid');
  assert.equal(media.get(tileKey('bob', 'screen')), undefined);
});

test('a manual layout choice wins over the screen-share switch', () => {
  const store = room();
  store.updateParticipantTracks('bob', 'screen', track);
  store.toggleLayout(); // back to grid by hand
  store.toggleLayout(); // and spotlight again by hand
  store.updateParticipantTracks('bob', 'screen', null);
  assert.equal(store.layout, 'spotlight');
});

test('pinning: the pinned tile is the spotlight; pinning a sharer pins the screen; leaving unpins', () => {
  const store = room();
  store.setPinnedParticipant('ada');
  assert.equal(store.layout, 'spotlight');
  assert.equal(store.pinnedParticipantId, 'ada');
  assert.equal(spotlightKey(store, listTiles(store)), 'ada:camera');
  store.updateParticipantTracks('bob', 'screen', track);
  store.setPinnedParticipant('bob');
  assert.equal(store.pinnedTileKey, 'bob:screen');
  store.removeParticipant('bob');
  assert.equal(store.pinnedTileKey, null);
  // Nothing pinned, no screen: the first remote camera.
  assert.equal(spotlightKey(store, listTiles(store)), 'ada:camera');
});

test('renaming the local user renames their participant', () => {
  const store = room();
  store.setLocalUserName('Renamed');
  assert.equal(store.participants.me?.name, 'Renamed');
  assert.equal(store.localUserName, 'Renamed');
});
