import { initials } from '../shared/names.ts';
import { bestGrid, pageSizeFor } from './layout.ts';
import { QUALITY_LABELS } from './quality.ts';
import { listTiles, media, setPinnedTile, spotlightKey, type RoomStore, type Tile } from './roomStore.ts';

const GAP = 10;

/** What a tile shows: names, badges, labels, derived from the room state. */
export interface TileView extends Tile {
  name: string;
  label: string;
  isScreen: boolean;
  isLocal: boolean;
  initials: string;
  micMuted: boolean;
  cameraOff: boolean;
  showVideo: boolean;
  showAvatar: boolean;
  pinned: boolean;
  pinLabel: string;
  /** Speaking now (the server's active speaker): highlighted. */
  speaking: boolean;
  handUp: boolean;
  reaction: string;
  hasReaction: boolean;
  hasQuality: boolean;
  qualityClass: string;
  qualityLabel: string;
  fullscreenLabel: string;
  version: number;
}

/** The tile view of one tile of the room (pure: unit-tested). */
export function tileViewOf(state: RoomStore, tile: Tile): TileView {
  const p = state.participants[tile.userId]!;
  const isScreen = tile.source === 'screen';
  const hasVideo = media.has(tile.key) && (isScreen || !p.cameraOff);
  const name = p.name || 'Guest';
  const who = p.isLocal ? `${name} (you)` : name;
  const pinned = state.pinnedTileKey === tile.key;
  const what = isScreen ? `${name}'s screen` : name;
  return {
    ...tile,
    name: isScreen ? `${who} · screen` : who,
    label: isScreen ? what : who,
    isScreen,
    isLocal: p.isLocal,
    initials: initials(name),
    micMuted: !isScreen && p.micMuted,
    cameraOff: !isScreen && p.cameraOff,
    showVideo: hasVideo,
    showAvatar: !hasVideo,
    pinned,
    pinLabel: pinned ? `Unpin ${what}` : `Pin ${what}`,
    speaking: !isScreen && state.activeSpeakerId === tile.userId,
    handUp: !isScreen && p.handRaisedAt !== null,
    reaction: isScreen ? '' : (p.reaction ?? ''),
    hasReaction: !isScreen && p.reaction !== null,
    hasQuality: !isScreen && p.quality !== null,
    qualityClass: p.quality ? `quality-${p.quality}` : '',
    qualityLabel: p.quality ? QUALITY_LABELS[p.quality] : '',
    fullscreenLabel: `Full screen: ${what}`,
    version: p.mediaVersion,
  };
}

/** Grid pages for `count` tiles, `pageSize` per page (at least one page). */
const pageCountOf = (count: number, pageSize: number): number => Math.max(1, Math.ceil(count / pageSize));

/** The component's room store, read through the component so Alpine tracks it (it is set in init). */
const store = (component: unknown): RoomStore | undefined => (component as { state?: RoomStore }).state;

/**
 * The stage of the call page (grid or spotlight with a strip): the tiles' bindings of the page's
 * Alpine component, merged into it by room.ts. `this` is the component.
 */
export function stageBindings() {
  return {
    // Counts and pages come from the plain tile list; a tile's view (many fields of its participant)
    // is built only for the tiles drawn. These getters run on every change of the room: building every
    // view in each of them made the click on "Join call" a long task (bench/join).
    /** Every tile in order, without views. */
    get tileList(): Tile[] {
      const state = store(this);
      return state ? listTiles(state) : [];
    },
    get spotlightTile(): string | undefined {
      const state = store(this);
      return state ? spotlightKey(state, listTiles(state)) : undefined;
    },
    /** The tiles the main area draws: the current grid page, or the spotlight's one. */
    get mainTileList(): Tile[] {
      const state = store(this);
      if (!state) return [];
      const tiles = listTiles(state);
      if (state.layout !== 'spotlight') {
        // Only the current page is drawn (and only its video is received).
        if (state.pageSize <= 0) return tiles;
        const page = Math.min(state.gridPage, pageCountOf(tiles.length, state.pageSize) - 1);
        return tiles.slice(page * state.pageSize, (page + 1) * state.pageSize);
      }
      const key = spotlightKey(state, tiles);
      return tiles.filter((t) => t.key === key);
    },
    get mainTiles(): TileView[] {
      const state = store(this);
      return state ? this.mainTileList.map((tile: Tile) => tileViewOf(state, tile)) : [];
    },
    get pageCount(): number {
      const state = store(this);
      if (!state || state.layout === 'spotlight' || state.pageSize <= 0) return 1;
      return pageCountOf(listTiles(state).length, state.pageSize);
    },
    get hasPages() {
      return this.pageCount > 1;
    },
    get pageLabel() {
      const page = Math.min(store(this)?.gridPage ?? 0, this.pageCount - 1);
      return `Page ${page + 1} of ${this.pageCount}`;
    },
    get onFirstPage() {
      return (store(this)?.gridPage ?? 0) <= 0;
    },
    get onLastPage() {
      return (store(this)?.gridPage ?? 0) >= this.pageCount - 1;
    },
    prevPage() {
      const state = store(this);
      if (state) state.gridPage = Math.max(0, Math.min(state.gridPage, this.pageCount - 1) - 1);
    },
    nextPage() {
      const state = store(this);
      if (state) state.gridPage = Math.min(this.pageCount - 1, state.gridPage + 1);
    },
    /** Spotlight's strip: every tile but the spotlighted one. */
    get stripTileList(): Tile[] {
      const state = store(this);
      if (state?.layout !== 'spotlight') return [];
      const tiles = listTiles(state);
      const key = spotlightKey(state, tiles);
      return tiles.filter((t) => t.key !== key);
    },
    get stripTiles(): TileView[] {
      const state = store(this);
      return state ? this.stripTileList.map((tile: Tile) => tileViewOf(state, tile)) : [];
    },
    get hasStrip() {
      return this.stripTileList.length > 0;
    },
    get stageClass() {
      return store(this)?.layout === 'spotlight' ? 'is-spotlight' : 'is-grid';
    },
    tileClass(this: any) {
      const t: TileView = this.tile;
      return [t.isScreen ? 'is-screen' : '', t.isLocal ? 'is-local' : '', t.pinned ? 'is-pinned' : '', t.key === this.spotlightTile && store(this)?.layout === 'spotlight' ? 'is-main' : '', t.speaking ? 'is-speaking' : ''].join(' ');
    },
    bindVideo(this: any) {
      const t: TileView = this.tile;
      void t.version;
      const el = this.$el as HTMLVideoElement;
      const stream = media.get(t.key) ?? null;
      if (el.srcObject !== stream) el.srcObject = stream;
      if (stream) el.play().catch(() => {});
    },
    /** Any tile full screen (the browser's own exit: Escape). */
    fullscreenTile(this: any) {
      const tile: HTMLElement | null = this.$el.closest('.tile');
      if (document.fullscreenElement) void document.exitFullscreen().catch(() => {});
      else void tile?.requestFullscreen?.().catch(() => {});
    },
    get canPictureInPicture() {
      return typeof document !== 'undefined' && document.pictureInPictureEnabled === true && store(this)?.layout === 'spotlight';
    },
    /** The spotlight's video in a floating window, where the browser has it. */
    pictureInPicture(this: any) {
      const video: HTMLVideoElement | null = document.querySelector('.stage-main .tile.is-main video');
      if (document.pictureInPictureElement) void document.exitPictureInPicture().catch(() => {});
      else if (video && video.readyState > 0) void video.requestPictureInPicture().catch(() => {});
    },
    togglePin(this: any) {
      const t: TileView = this.tile;
      const state = store(this);
      if (state) setPinnedTile(state, state.pinnedTileKey === t.key ? null : t.key);
    },
    layoutGrid(this: any) {
      const main: HTMLElement | undefined = this.$refs.main;
      const state = store(this);
      if (!main || !state) return;
      if (state.layout !== 'spotlight') {
        const pageSize = pageSizeFor(this.tileList.length, main.clientWidth, main.clientHeight, GAP);
        if (pageSize !== state.pageSize) state.pageSize = pageSize;
        const last = Math.max(0, this.pageCount - 1);
        if (state.gridPage > last) state.gridPage = last;
      }
      const count = Math.max(1, this.mainTileList.length);
      const { tileW, tileH } = bestGrid(count, main.clientWidth, main.clientHeight, GAP);
      main.style.setProperty('--tile-w', `${tileW}px`);
      main.style.setProperty('--tile-h', `${tileH}px`);
      main.style.setProperty('--gap', `${GAP}px`);
    },
  };
}
