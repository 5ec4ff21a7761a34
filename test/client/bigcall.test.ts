import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRoomState, listTiles, spotlightKey, upsertParticipant, type RoomState } from '../../src/client/roomStore.ts';
import { CAMERA_LAYERS, produceOptions } from '../../src/client/sending.ts';
import { followSpeaker, SPEAKER_HOLD_MS, setActiveSpeaker } from '../../src/client/speakers.ts';
import { PRIORITY, spatialLayerFor, spatialLayersOf, wishFor } from '../../src/client/videoDemand.ts';

test('a tile gets the lowest layer that is still sharp for its height', () => {
  assert.equal(spatialLayerFor(120, 3), 0, 'a thumbnail: 180p');
  assert.equal(spatialLayerFor(220, 3), 0);
  assert.equal(spatialLayerFor(300, 3), 1, 'a mid-size tile: 360p');
  assert.equal(spatialLayerFor(700, 3), 2, 'a big tile: 720p');
  assert.equal(spatialLayerFor(2000, 3), 2);
  assert.equal(spatialLayerFor(100, 2), 0, 'two layers: 360p and 720p');
  assert.equal(spatialLayerFor(600, 2), 1);
  assert.equal(spatialLayerFor(100, 1), 0);
});

test('scalability modes give the number of spatial layers', () => {
  assert.equal(spatialLayersOf('L3T3'), 3);
  assert.equal(spatialLayersOf('L3T3_KEY'), 3);
  assert.equal(spatialLayersOf('S2T1'), 2);
  assert.equal(spatialLayersOf(undefined), 1);
  assert.equal(spatialLayersOf('nonsense'), 1);
});

test('what a consumer should do follows its tile', () => {
  assert.deepEqual(wishFor(undefined, false, 3), { paused: false, spatialLayer: undefined, priority: PRIORITY.thumbnail }, 'not measured yet: play, the server picks');
  assert.equal(wishFor(undefined, true, 3).paused, true, 'known but not drawn (another page): paused');
  assert.equal(wishFor({ visible: false, height: 500, priority: 1 }, true, 3).paused, true, 'scrolled out or tab hidden: paused');
  assert.deepEqual(wishFor({ visible: true, height: 150, priority: 1 }, true, 3), { paused: false, spatialLayer: 0, priority: 1 });
  assert.deepEqual(wishFor({ visible: true, height: 800, priority: PRIORITY.main }, true, 3), { paused: false, spatialLayer: 2, priority: PRIORITY.main });
  assert.equal(wishFor({ visible: true, height: 800, priority: PRIORITY.screen }, true, 1).spatialLayer, undefined, 'a single stream has no layers to pick');
});

test('the camera is sent as three layers, the smallest under 200 kbps; the screen as one, sharp', () => {
  const track = { kind: 'video', contentHint: '' } as unknown as MediaStreamTrack;
  const camera = produceOptions('camera', track, undefined);
  assert.equal(camera.encodings?.length, 3);
  assert.ok(camera.encodings![0]!.maxBitrate! <= 200_000);
  assert.deepEqual(camera.encodings!.map((e) => e.scaleResolutionDownBy), [4, 2, 1]);
  assert.ok(camera.encodings!.every((e) => e.scalabilityMode === 'L1T3'));
  assert.equal(produceOptions('camera', track, undefined, false).encodings, undefined, 'the fallback sends one stream');
  assert.notEqual(camera.encodings![0], CAMERA_LAYERS[0], 'each produce gets its own copy (the handler mutates encodings)');
  const screen = produceOptions('screen', track, undefined);
  assert.equal(screen.encodings?.length, 1);
  assert.equal(track.contentHint, 'detail');
  assert.deepEqual(produceOptions('mic', track, undefined).codecOptions, { opusDtx: true, opusFec: true });
});

function room(ids: string[]): RoomState {
  const state = createRoomState('r', ids[0]!);
  for (const id of ids) upsertParticipant(state, id, { name: id });
  return state;
}

test('the spotlight follows the speaker, but holds each one a while', () => {
  const state = room(['me', 'a', 'b']);
  state.layout = 'spotlight';
  assert.equal(setActiveSpeaker(state, 'b', 10_000), undefined);
  assert.equal(spotlightKey(state, listTiles(state)), 'b:camera');
  const wait = setActiveSpeaker(state, 'a', 10_500);
  assert.equal(wait, SPEAKER_HOLD_MS - 500, 'too soon: held');
  assert.equal(state.activeSpeakerId, 'a', 'the highlight moves at once');
  assert.equal(spotlightKey(state, listTiles(state)), 'b:camera');
  assert.equal(followSpeaker(state, 10_000 + SPEAKER_HOLD_MS), undefined);
  assert.equal(spotlightKey(state, listTiles(state)), 'a:camera');
  setActiveSpeaker(state, 'me', 20_000);
  assert.equal(spotlightKey(state, listTiles(state)), 'a:camera', 'never our own camera');
  setActiveSpeaker(state, null, 21_000);
  assert.equal(state.activeSpeakerId, null);
  assert.equal(spotlightKey(state, listTiles(state)), 'a:camera', 'silence does not move it');
  state.pinnedTileKey = 'b:camera';
  assert.equal(spotlightKey(state, listTiles(state)), 'b:camera', 'a pin wins');
});

test('a speaker on a later grid page trades places with the first page’s least recent speaker', () => {
  const state = room(['me', 'a', 'b', 'c', 'd', 'e']);
  state.pageSize = 3; // me, a, b on page one
  setActiveSpeaker(state, 'a', 1000);
  setActiveSpeaker(state, 'e', 2000);
  assert.deepEqual(state.order.slice(0, 3), ['me', 'a', 'e'], 'b (never spoke) made room; a spoke recently and stays');
  assert.ok(state.order.includes('b'));
  setActiveSpeaker(state, 'd', 3000);
  assert.deepEqual(state.order.slice(0, 3), ['me', 'd', 'e'], 'then the least recent speaker, a, makes room');
  setActiveSpeaker(state, 'e', 4000);
  assert.deepEqual(state.order.slice(0, 3), ['me', 'd', 'e'], 'someone already shown does not move');
  state.layout = 'spotlight';
  setActiveSpeaker(state, 'b', 5000);
  assert.deepEqual(state.order.slice(0, 3), ['me', 'd', 'e'], 'only the grid reorders');
});
