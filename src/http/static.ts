import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hashedUrlFor } from './assets.ts';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Types build.mjs precompresses: a `.br` / `.gz` sibling may sit next to the file. */
const COMPRESSIBLE = new Set(['.js', '.css']);
const ENCODINGS = [
  { coding: 'br', suffix: '.br' },
  { coding: 'gzip', suffix: '.gz' },
] as const;
type Coding = (typeof ENCODINGS)[number]['coding'];

/** Build output named by its content (`room-3F2A1B7C.js`, and its .map / .LEGAL.txt): never changes. */
const HASHED = /^build\/[^/]+-[A-Z0-9]{8}\.[A-Za-z.]+$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Everything else may change in place: the browser keeps it but asks first (a 304 when unchanged). */
const REVALIDATE = 'no-cache';

interface FileInfo {
  size: number;
  mtimeMs: number;
  etag: string;
}

/** Strong validators, by path; recomputed when the file's mtime or size changes. */
const etags = new Map<string, FileInfo>();

async function describe(file: string): Promise<FileInfo | undefined> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    etags.delete(file);
    return undefined;
  }
  if (!stat.isFile()) return undefined;
  const known = etags.get(file);
  if (known && known.mtimeMs === stat.mtimeMs && known.size === stat.size) return known;
  let body: Buffer;
  try {
    body = await fs.readFile(file);
  } catch {
    return undefined;
  }
  const info = { size: body.length, mtimeMs: stat.mtimeMs, etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
  etags.set(file, info);
  return info;
}

/** q-values by content coding (lower-cased); a coding the header does not name gets the `*` entry's, else 0. */
export function acceptedCodings(header: string | string[] | undefined): (coding: string) => number {
  const q = new Map<string, number>();
  for (const part of (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    let value = 1;
    for (const param of params) {
      const [key, raw] = param.trim().split('=');
      if (key === 'q') value = Number(raw);
    }
    q.set(name === 'x-gzip' ? 'gzip' : name, Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0);
  }
  return (coding) => q.get(coding) ?? q.get('*') ?? 0;
}

/**
 * The coding to send, among the precompressed siblings present: the one the client weights highest
 * (q > 0), brotli before gzip on a tie; identity when the client accepts neither.
 */
export function chooseCoding(header: string | string[] | undefined, available: Coding[]): Coding | undefined {
  const q = acceptedCodings(header);
  let best: { coding: Coding; q: number } | undefined;
  for (const { coding } of ENCODINGS) {
    if (!available.includes(coding) || q(coding) <= 0) continue;
    if (!best || q(coding) > best.q) best = { coding, q: q(coding) };
  }
  return best?.coding;
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  // Weak comparison, as If-None-Match asks for.
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** `urlPath` as a file under `root`, or undefined when it would leave root. */
function inside(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const file = path.join(root, path.normalize(decoded));
  return file.startsWith(root + path.sep) ? file : undefined;
}

/**
 * Serves files under `root` for GET/HEAD; returns false when it is not a file there.
 *
 * Content-hashed build output (/build/name-HASH.ext) is cached for a year (`immutable`); everything
 * else (stylesheets' sources, the favicon, /build/room.js-style aliases of the hashed bundles) carries
 * a strong ETag and `no-cache`, so browsers revalidate and get a 304 while it is unchanged. Scripts
 * and stylesheets go out brotli- or gzip-compressed when build.mjs left a `.br` / `.gz` next to them
 * and the request's Accept-Encoding takes it.
 */
export async function serveStatic(root: string, urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  let file = inside(root, urlPath);
  if (!file) return false;
  const ext = path.extname(file);
  const type = TYPES[ext];
  if (!type) return false;
  let immutable = HASHED.test(path.relative(root, file).split(path.sep).join('/'));
  let identity = await describe(file);
  if (!identity) {
    // /build/room.js → the current /build/room-HASH.js, revalidated on every use.
    const hashed = hashedUrlFor(decodeURIComponentSafe(urlPath));
    file = hashed ? inside(root, hashed) : undefined;
    identity = file ? await describe(file) : undefined;
    if (!file || !identity) return false;
    immutable = false;
  }

  const compressible = COMPRESSIBLE.has(ext);
  const variants = new Map<Coding, FileInfo>();
  if (compressible) {
    const accepts = acceptedCodings(req.headers['accept-encoding']);
    for (const { coding, suffix } of ENCODINGS) {
      if (accepts(coding) <= 0) continue;
      const info = await describe(file + suffix);
      if (info) variants.set(coding, info);
    }
  }
  const coding = chooseCoding(req.headers['accept-encoding'], [...variants.keys()]);
  const chosen = coding ? variants.get(coding)! : identity;
  const chosenFile = coding ? file + ENCODINGS.find((e) => e.coding === coding)!.suffix : file;

  const headers: Record<string, string | number> = {
    'cache-control': immutable ? IMMUTABLE : REVALIDATE,
    etag: chosen.etag,
  };
  if (compressible) headers.vary = 'Accept-Encoding';
  if (matches(req.headers['if-none-match'], chosen.etag)) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  let body: Buffer | undefined;
  if (req.method === 'GET') {
    try {
      body = await fs.readFile(chosenFile);
    } catch {
      return false;
    }
  }
  res.writeHead(200, {
    ...headers,
    'content-type': type,
    'content-length': body?.length ?? chosen.size,
    ...(coding ? { 'content-encoding': coding } : {}),
  });
  res.end(body);
  return true;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
