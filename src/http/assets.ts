import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The build's manifest (public/build/manifest.json, written by build.mjs): logical asset names
 * ('room.js', 'app.css') → content-hashed URLs ('/build/room-3F2A1B7C.js'). Pages link the hashed
 * URLs, which are cached for a year; a new build means new names, so nobody ever runs a stale bundle.
 */
export const PUBLIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../public');
const MANIFEST = path.join(PUBLIC_DIR, 'build/manifest.json');
/** A rebuild while the server runs (development, tests) is picked up within this long. */
const RECHECK_MS = 1000;

let loaded: { entries: Map<string, string>; mtimeMs: number; checkedAt: number } | undefined;

function manifest(): Map<string, string> {
  const now = Date.now();
  if (loaded && now - loaded.checkedAt < RECHECK_MS) return loaded.entries;
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(MANIFEST).mtimeMs;
  } catch {
    // Not built yet: pages still render (their scripts 404 until `npm run build`).
    loaded = { entries: new Map(), mtimeMs: 0, checkedAt: now };
    return loaded.entries;
  }
  if (!loaded || loaded.mtimeMs !== mtimeMs) {
    const entries = new Map<string, string>();
    try {
      const parsed = JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) as unknown;
      if (parsed && typeof parsed === 'object') {
        for (const [name, url] of Object.entries(parsed)) if (typeof url === 'string' && url.startsWith('/build/')) entries.set(name, url);
      }
    } catch {
      // Half-written by a concurrent build cannot happen (it is renamed into place); unreadable: keep the last good one.
      if (loaded) return loaded.entries;
    }
    loaded = { entries, mtimeMs, checkedAt: now };
  }
  loaded.checkedAt = now;
  return loaded.entries;
}

/** The URL to link for a built asset, e.g. assetUrl('room.js') → '/build/room-3F2A1B7C.js'. */
export function assetUrl(logicalName: string): string {
  return manifest().get(logicalName) ?? `/build/${logicalName}`;
}

/**
 * For an unhashed /build/ URL of a logical name ('/build/room.js'): the hashed URL it stands for.
 * Old links and pages that predate hashing keep working (revalidated, never cached for long).
 */
export function hashedUrlFor(urlPath: string): string | undefined {
  if (!urlPath.startsWith('/build/')) return undefined;
  const url = manifest().get(urlPath.slice('/build/'.length));
  return url === urlPath ? undefined : url;
}
