import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bestGrid, MIN_TILE_WIDTH, pageSizeFor } from '../../src/client/layout.ts';

test('one tile fills the box at 16:9', () => {
  assert.deepEqual(bestGrid(1, 1600, 900, 10), { cols: 1, tileW: 1600, tileH: 900 });
});

test('tiles never overflow the box, gaps included', () => {
  for (const count of [2, 3, 4, 5, 7, 9, 12, 16, 25]) {
    for (const [width, height] of [[1280, 640], [390, 700], [1920, 1000]] as const) {
      const { cols, tileW, tileH } = bestGrid(count, width, height, 10);
      const rows = Math.ceil(count / cols);
      assert.ok(cols * tileW + (cols - 1) * 10 <= width, `${count} tiles fit ${width} wide`);
      assert.ok(rows * tileH + (rows - 1) * 10 <= height, `${count} tiles fit ${height} high`);
      assert.ok(Math.abs(tileW / tileH - 16 / 9) < 0.05, 'aspect kept');
    }
  }
});

test('a wide box puts tiles side by side, a tall one stacks them', () => {
  assert.equal(bestGrid(2, 1600, 450, 0).cols, 2);
  assert.equal(bestGrid(2, 400, 900, 0).cols, 1);
});

test('nothing to lay out, or no room, gives an empty grid', () => {
  assert.equal(bestGrid(0, 100, 100, 0).tileW, 0);
  assert.equal(bestGrid(3, 0, 100, 0).tileW, 0);
});

test('the grid pages only when tiles would be narrower than MIN_TILE_WIDTH', () => {
  assert.equal(pageSizeFor(4, 1280, 640, 10), 0, 'four tiles fit a laptop screen');
  assert.equal(pageSizeFor(1, 390, 600, 10), 0);
  const size = pageSizeFor(16, 390, 600, 10);
  assert.ok(size > 1 && size < 16, `a phone pages 16 tiles (${size} per page)`);
  assert.ok(bestGrid(size, 390, 600, 10).tileW >= MIN_TILE_WIDTH, 'each page keeps tiles readable');
  assert.ok(bestGrid(size + 1, 390, 600, 10).tileW < MIN_TILE_WIDTH, 'and holds as many as it can');
  assert.equal(pageSizeFor(50, 150, 100, 10), 1, 'a box too small for any readable tile shows one per page');
});
