import { listTiles, type RoomState } from './roomStore.ts';

/** The spotlight stays on a speaker at least this long before following the next one. */
export const SPEAKER_HOLD_MS = 2000;

/**
 * The server says who speaks now (null: nobody). Highlights them, moves them onto the grid's first
 * page, and lets the spotlight follow. Returns in how many ms to call followSpeaker again, when the
 * spotlight is holding on the previous speaker.
 */
export function setActiveSpeaker(state: RoomState, userId: string | null, now: number): number | undefined {
  // Kept even for someone not listed yet (a joiner hears the speaker before its participant list).
  state.activeSpeakerId = userId;
  if (userId === null || state.participants[userId] === undefined) return undefined;
  state.lastSpoke[userId] = now;
  promoteSpeaker(state, userId);
  return followSpeaker(state, now);
}

/**
 * The spotlight (when nothing is pinned and nobody shares a screen: spotlightKey) follows the remote
 * participant speaking now, but not sooner than SPEAKER_HOLD_MS after its last move.
 */
export function followSpeaker(state: RoomState, now: number): number | undefined {
  const id = state.activeSpeakerId;
  if (id === null || id === state.localUserId || id === state.spotlightSpeakerId) return undefined;
  const wait = state.spotlightSpeakerSince + SPEAKER_HOLD_MS - now;
  if (wait > 0) return wait;
  state.spotlightSpeakerId = id;
  state.spotlightSpeakerSince = now;
  return undefined;
}

/**
 * In a grid of several pages, a speaker who is not on the first page trades places with whoever on
 * it spoke least recently (never: the latest joined), so the people talking are the ones in view.
 */
export function promoteSpeaker(state: RoomState, userId: string): void {
  if (state.layout !== 'grid' || state.pageSize <= 0) return;
  const tiles = listTiles(state);
  const firstPage = tiles.slice(0, state.pageSize);
  if (firstPage.some((tile) => tile.userId === userId)) return;
  let victim: string | undefined;
  for (const tile of firstPage) {
    if (tile.source !== 'camera' || tile.userId === state.localUserId) continue;
    const spoke = state.lastSpoke[tile.userId] ?? -1;
    if (victim === undefined || spoke <= (state.lastSpoke[victim] ?? -1)) victim = tile.userId;
  }
  if (victim === undefined) return;
  const order = [...state.order];
  const [a, b] = [order.indexOf(userId), order.indexOf(victim)];
  if (a < 0 || b < 0) return;
  [order[a], order[b]] = [order[b]!, order[a]!];
  state.order = order;
}
