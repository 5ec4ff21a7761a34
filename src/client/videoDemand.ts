/**
 * What each remote video tile needs from the server, and what that means for its consumer. Pure, so
 * the rules are unit-tested; TileWatcher measures the page, MediaSession sends the requests.
 */

/** A tile as the page shows it now. */
export interface TileNeed {
  /** On screen: in the viewport, on the current grid page, and the tab in the foreground. */
  visible: boolean;
  /** Its height in device pixels. */
  height: number;
  /** Its share of the downlink against the other tiles (1–255): screen shares and the spotlight first. */
  priority: number;
}

/** Tile key (`<userId>:camera` / `<userId>:screen`) → need. A tile that is not in the map is not shown. */
export type TileNeeds = ReadonlyMap<string, TileNeed>;

export const PRIORITY = { thumbnail: 1, main: 128, screen: 255 } as const;

/** What one consumer should be doing. `spatialLayer` undefined: it has no layers to choose from. */
export interface ConsumerWish {
  paused: boolean;
  spatialLayer: number | undefined;
  priority: number;
}

/** Height of the top layer we send (the camera's 720p); each lower layer is half the one above. */
const TOP_LAYER_HEIGHT = 720;

/**
 * The lowest spatial layer that still looks sharp in a tile `height` device pixels tall (a layer a
 * little smaller than the tile is fine: 0.8×), out of `layers` layers.
 */
export function spatialLayerFor(height: number, layers: number): number {
  for (let layer = 0; layer < layers - 1; layer++) {
    const layerHeight = TOP_LAYER_HEIGHT / 2 ** (layers - 1 - layer);
    if (layerHeight >= height * 0.8) return layer;
  }
  return layers - 1;
}

/**
 * Spatial layers a consumer's producer sends, from the consumer's scalability mode ("L3T3": 3).
 * One when it has none (a plain stream).
 */
export function spatialLayersOf(scalabilityMode: string | undefined): number {
  const match = /^[LS](\d+)T\d+/.exec(scalabilityMode ?? '');
  return match ? Number(match[1]) : 1;
}

/**
 * The wish for a consumer whose tile has `need`. Unknown (its tile not drawn yet, e.g. the first
 * moments of a join): play it, and let the server's bandwidth estimate pick the layer.
 */
export function wishFor(need: TileNeed | undefined, known: boolean, layers: number): ConsumerWish {
  if (!known) return { paused: false, spatialLayer: undefined, priority: PRIORITY.thumbnail };
  if (!need || !need.visible) return { paused: true, spatialLayer: undefined, priority: PRIORITY.thumbnail };
  return { paused: false, spatialLayer: layers > 1 ? spatialLayerFor(need.height, layers) : undefined, priority: need.priority };
}
