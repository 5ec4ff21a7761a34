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
