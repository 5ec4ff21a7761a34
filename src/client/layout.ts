/** Largest equal tiles (of the given aspect) that fit `count` tiles into the box without scrolling. */
export function bestGrid(count: number, width: number, height: number, gap: number, aspect = 16 / 9): { cols: number; tileW: number; tileH: number } {
  let best = { cols: 1, tileW: 0, tileH: 0 };
  if (count <= 0 || width <= 0 || height <= 0) return best;
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols);
    let tileW = (width - gap * (cols - 1)) / cols;
    let tileH = (height - gap * (rows - 1)) / rows;
    if (tileW <= 0 || tileH <= 0) continue;
    if (tileW / tileH > aspect) tileW = tileH * aspect;
    else tileH = tileW / aspect;
    if (tileW * tileH > best.tileW * best.tileH) best = { cols, tileW: Math.floor(tileW), tileH: Math.floor(tileH) };
  }
  return best;
}

/** Tiles narrower than this are hard to read: past it the grid pages instead of shrinking. */
export const MIN_TILE_WIDTH = 160;

/** How many tiles one grid page holds: all `total` if they fit at MIN_TILE_WIDTH or wider (0: no paging). */
export function pageSizeFor(total: number, width: number, height: number, gap: number): number {
  if (total <= 1 || width <= 0 || height <= 0) return 0;
  for (let count = total; count >= 1; count--) {
    if (bestGrid(count, width, height, gap).tileW >= MIN_TILE_WIDTH) return count === total ? 0 : count;
  }
  return 1;
}
