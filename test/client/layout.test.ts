import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bestGrid } from '../../src/client/layout.ts';

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
