import { PRIORITY, type TileNeed, type TileNeeds } from './videoDemand.ts';

/** Changes settle this long before the server hears of them (a resize or a scroll is many events). */
const SETTLE_MS = 120;

interface Seen {
  intersecting: boolean;
  /** CSS pixels. */
  height: number;
}

/**
 * Watches the stage's tiles (`.tile[data-tile]`) and reports what each needs: whether it is on screen
 * (IntersectionObserver: scrolled out of the strip, outside the viewport), its size (ResizeObserver)
 * and whether the tab is in the foreground. Tiles the call has but the page does not draw (another
 * grid page) are reported as not visible; `allTileKeys` names them.
 */
export class TileWatcher {
  readonly #root: HTMLElement;
  readonly #allTileKeys: () => string[];
  readonly #report: (needs: TileNeeds) => void;
  readonly #seen = new Map<HTMLElement, Seen>();
  readonly #intersections: IntersectionObserver;
  readonly #sizes: ResizeObserver;
  readonly #mutations: MutationObserver;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #last = '';

  constructor(root: HTMLElement, allTileKeys: () => string[], report: (needs: TileNeeds) => void) {
    this.#root = root;
    this.#allTileKeys = allTileKeys;
    this.#report = report;
    this.#intersections = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const seen = this.#seen.get(entry.target as HTMLElement);
        if (seen) seen.intersecting = entry.isIntersecting;
      }
      this.schedule();
    });
    this.#sizes = new ResizeObserver((entries) => {
      for (const entry of entries) {
        const seen = this.#seen.get(entry.target as HTMLElement);
        if (seen) seen.height = entry.contentRect.height;
      }
      this.schedule();
    });
    // Tiles come and go with people, pages and layouts; class changes mark the spotlight's main tile.
    this.#mutations = new MutationObserver(() => this.#scan());
    this.#mutations.observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ['class'] });
    document.addEventListener('visibilitychange', () => this.schedule());
    this.#scan();
  }

  #scan(): void {
    for (const element of this.#root.querySelectorAll<HTMLElement>('.tile[data-tile]')) {
      if (this.#seen.has(element)) continue;
      this.#seen.set(element, { intersecting: false, height: element.clientHeight });
      this.#intersections.observe(element);
      this.#sizes.observe(element);
    }
    for (const element of [...this.#seen.keys()]) {
      if (element.isConnected) continue;
      this.#seen.delete(element);
      this.#intersections.unobserve(element);
      this.#sizes.unobserve(element);
    }
    this.schedule();
  }

  /** Reports soon (once things settle), if anything changed. */
  schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#flush(), SETTLE_MS);
  }

  /** What each tile needs right now. */
  measure(): Map<string, TileNeed> {
    const foreground = document.visibilityState !== 'hidden';
    const ratio = window.devicePixelRatio || 1;
    const needs = new Map<string, TileNeed>();
    for (const key of this.#allTileKeys()) needs.set(key, { visible: false, height: 0, priority: PRIORITY.thumbnail });
    for (const [element, seen] of this.#seen) {
      const key = element.dataset.tile;
      if (!key || !element.isConnected) continue;
      const priority = key.endsWith(':screen') ? PRIORITY.screen : element.classList.contains('is-main') ? PRIORITY.main : PRIORITY.thumbnail;
      const need = { visible: foreground && seen.intersecting && seen.height > 0, height: Math.round(seen.height * ratio), priority };
      // A key drawn twice (a layout in transition): the visible, larger one counts.
      const rank = (n: TileNeed) => (n.visible ? 1e6 : 0) + n.height;
      const other = needs.get(key);
      if (!other || rank(need) >= rank(other)) needs.set(key, need);
    }
    return needs;
  }

  #flush(): void {
    const needs = this.measure();
    const summary = JSON.stringify([...needs]);
    if (summary === this.#last) return;
    this.#last = summary;
    this.#report(needs);
  }
}
