/**
 * Static assets as browsers get them: content-hashed bundles cached for a year, precompressed
 * brotli/gzip chosen by Accept-Encoding, ETag revalidation for everything else, no source map links.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import type { Parley } from '../../src/app.ts';
import { startTestServer } from '../helpers/server.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PUBLIC = path.join(ROOT, 'public');
const IMMUTABLE = 'public, max-age=31536000, immutable';
const HASHED = /^\/build\/[\w.-]+-[A-Z0-9]{8}\.(js|css)$/;

interface Got {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let server: Parley;

/** A raw HTTP request: no automatic Accept-Encoding and no decoding, unlike fetch. */
function request(urlPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}${urlPath}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The scripts and stylesheets a page links. */
async function assetsOf(urlPath: string): Promise<{ scripts: string[]; styles: string[] }> {
  const html = (await request(urlPath)).body.toString('utf8');
  return {
    scripts: [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]!),
    styles: [...html.matchAll(/<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"|<link[^>]*href="([^"]+)"[^>]*rel="stylesheet"/g)].map((m) => (m[1] ?? m[2])!),
  };
}

const manifest = (): Record<string, string> => JSON.parse(fs.readFileSync(path.join(PUBLIC, 'build/manifest.json'), 'utf8'));
const onDisk = (url: string) => fs.readFileSync(path.join(PUBLIC, url));

before(async () => {
  // `npm test` builds first; run on its own, this file builds when there is no build yet.
  execFileSync(process.execPath, ['build.mjs', '--if-missing'], { cwd: ROOT, stdio: 'ignore' });
  server = await startTestServer();
});
after(async () => {
  await server?.close();
});

describe('pages link content-hashed assets', () => {
  test('home: htmx, hx-csp, home.js and app.css, all by hashed name from the manifest', async () => {
    const { scripts, styles } = await assetsOf('/');
    const m = manifest();
    assert.deepEqual(scripts, [m['htmx.min.js'], m['hx-csp.js'], m['home.js']]);
    assert.deepEqual(styles, [m['app.css']]);
    for (const url of [...scripts, ...styles]) assert.match(url, HASHED);
  });

  test('connectivity check and error pages', async () => {
    const m = manifest();
    const check = await assetsOf('/connectivity');
    assert.deepEqual(check.scripts, [m['connectivity.js']]);
    assert.deepEqual(check.styles, [m['app.css'], m['connectivity.css']]);
    const missing = await assetsOf('/no/such/page');
    assert.deepEqual(missing.styles, [m['app.css']]);
    for (const url of [...check.scripts, ...check.styles]) assert.match(url, HASHED);
  });

  test('room page', async () => {
    const res = await fetch(`${server.url}/rooms`, { method: 'POST', redirect: 'manual' });
    const roomId = /\/r\/([A-Za-z0-9_-]+)/.exec(await res.text())?.[1];
    assert.ok(roomId);
    const { scripts, styles } = await assetsOf(`/r/${roomId}`);
    assert.deepEqual(scripts, [manifest()['room.js']]);
    assert.deepEqual(styles, [manifest()['app.css']]);
  });

  test('HTML is never cached (each page carries a fresh CSP nonce)', async () => {
    const page = await request('/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.equal(page.headers.etag, undefined);
  });
});

describe('hashed assets', () => {
  const hashed = () => Object.values(manifest());

  test('are cached for a year, immutable, with their type', async () => {
    for (const url of hashed()) {
      const res = await request(url);
      assert.equal(res.status, 200, url);
      assert.equal(res.headers['cache-control'], IMMUTABLE, url);
      assert.match(res.headers['content-type'] ?? '', url.endsWith('.css') ? /^text\/css/ : /^text\/javascript/, url);
      assert.deepEqual(res.body, onDisk(url), url);
    }
  });

  test('brotli when accepted: Content-Encoding, Vary, and the decoded body is the file', async () => {
    for (const url of hashed()) {
      const res = await request(url, { 'accept-encoding': 'gzip, deflate, br, zstd' });
      assert.equal(res.headers['content-encoding'], 'br', url);
      assert.equal(res.headers.vary, 'Accept-Encoding', url);
      assert.equal(res.headers['cache-control'], IMMUTABLE, url);
      assert.equal(Number(res.headers['content-length']), res.body.length, url);
      assert.ok(res.body.length < onDisk(url).length, `${url}: smaller than the file`);
      assert.deepEqual(zlib.brotliDecompressSync(res.body), onDisk(url), url);
    }
  });

  test('gzip when brotli is not accepted (or weighted lower)', async () => {
    const url = manifest()['home.js']!;
    for (const accept of ['gzip, deflate', 'br;q=0, gzip', 'gzip;q=1, br;q=0.5', 'x-gzip']) {
      const res = await request(url, { 'accept-encoding': accept });
      assert.equal(res.headers['content-encoding'], 'gzip', accept);
      assert.equal(res.headers.vary, 'Accept-Encoding', accept);
      assert.deepEqual(zlib.gunzipSync(res.body), onDisk(url), accept);
    }
    assert.equal((await request(url, { 'accept-encoding': '*' })).headers['content-encoding'], 'br', 'any coding: brotli');
  });

  test('identity when no compression is accepted', async () => {
    const url = manifest()['room.js']!;
    for (const accept of [undefined, 'identity', 'br;q=0, gzip;q=0', '*;q=0', 'deflate']) {
      const res = await request(url, accept === undefined ? {} : { 'accept-encoding': accept });
      assert.equal(res.status, 200, String(accept));
      assert.equal(res.headers['content-encoding'], undefined, String(accept));
      assert.equal(res.headers.vary, 'Accept-Encoding', String(accept));
      assert.deepEqual(res.body, onDisk(url), String(accept));
    }
  });

  test('HEAD: the same headers as GET, no body', async () => {
    const url = manifest()['app.css']!;
    for (const accept of ['br', 'gzip', 'identity']) {
      const get = await request(url, { 'accept-encoding': accept });
      const head = await request(url, { 'accept-encoding': accept }, 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      for (const name of ['content-type', 'content-length', 'content-encoding', 'cache-control', 'etag', 'vary']) {
        assert.equal(head.headers[name], get.headers[name], `${accept}: ${name}`);
      }
    }
  });

  test('production bundles link no source map', async () => {
    const { scripts, styles } = await assetsOf('/connectivity');
    const home = await assetsOf('/');
    for (const url of new Set([...scripts, ...styles, ...home.scripts, manifest()['room.js']!])) {
      const res = await request(url, { 'accept-encoding': 'br' });
      const text = zlib.brotliDecompressSync(res.body).toString('utf8');
      assert.doesNotMatch(text, /sourceMappingURL/, url);
      assert.equal(res.headers.sourcemap, undefined, url);
      assert.equal(res.headers['x-sourcemap'], undefined, url);
    }
  });
});

describe('everything else: strong ETag, revalidated', () => {
  test('favicon, stylesheet sources and /build/room.js-style aliases: ETag, no-cache, 304 when unchanged', async () => {
    for (const url of ['/favicon.svg', '/css/app.css', '/build/room.js', '/build/home.js']) {
      const first = await request(url);
      assert.equal(first.status, 200, url);
      assert.equal(first.headers['cache-control'], 'no-cache', url);
      const etag = first.headers.etag ?? '';
      assert.match(etag, /^"[^"]+"$/, `${url}: a strong ETag`);
      assert.equal((await request(url)).headers.etag, etag, `${url}: the same ETag again`);

      const notModified = await request(url, { 'if-none-match': etag });
      assert.equal(notModified.status, 304, url);
      assert.equal(notModified.body.length, 0, url);
      assert.equal(notModified.headers.etag, etag, url);
      assert.equal(notModified.headers['cache-control'], 'no-cache', url);
      assert.equal((await request(url, { 'if-none-match': `"other", W/${etag}` })).status, 304, `${url}: weak comparison, lists`);
      assert.equal((await request(url, { 'if-none-match': '"something-else"' })).status, 200, `${url}: another ETag`);
      assert.equal((await request(url, { 'if-none-match': etag }, 'HEAD')).status, 304, `${url}: HEAD`);
    }
  });

  test('an alias serves the current hashed file, compressed too; each representation has its own ETag', async () => {
    const plain = await request('/build/room.js');
    assert.deepEqual(plain.body, onDisk(manifest()['room.js']!));
    const br = await request('/build/room.js', { 'accept-encoding': 'br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers['cache-control'], 'no-cache');
    assert.notEqual(br.headers.etag, plain.headers.etag);
    assert.equal((await request('/build/room.js', { 'accept-encoding': 'br', 'if-none-match': br.headers.etag! })).status, 304);
  });

  test('hashed assets answer If-None-Match too', async () => {
    const url = manifest()['home.js']!;
    const first = await request(url, { 'accept-encoding': 'br' });
    const again = await request(url, { 'accept-encoding': 'br', 'if-none-match': first.headers.etag! });
    assert.equal(again.status, 304);
    assert.equal(again.headers['cache-control'], IMMUTABLE);
  });
});

test('nothing outside public/, and no build internals', async () => {
  const home = manifest()['home.js']!;
  for (const url of [
    '/../package.json',
    '/..%2fpackage.json',
    '/build/..%2f..%2fpackage.json',
    '/%2e%2e/src/main.ts',
    '/css/%2e%2e/%2e%2e/src/main.ts',
    '/build/manifest.json',
    `${home}.br`,
    `${home}.gz`,
    '/build/%00.js',
    '/build/%E0%A4%A.js',
  ]) {
    const res = await request(url);
    assert.equal(res.status, 404, url);
    assert.match(res.headers['content-type'] ?? '', /text\/html/, url);
  }
  assert.equal((await request(home, {}, 'POST')).status, 404, 'POST is not a static request');
});
