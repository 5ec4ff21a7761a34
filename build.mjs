// Bundles the browser modules and stylesheets with esbuild into content-hashed files, precompresses
// them (.br, .gz), writes public/build/manifest.json (logical name → URL, read by src/http/assets.ts)
// and prints the size of every asset each page loads.
//
//   node build.mjs               build (files whose content did not change are left alone)
//   node build.mjs --if-missing  only when public/build/manifest.json or a file it names is missing
//
// Source maps are always written next to the bundles, but only NODE_ENV=development links them
// from the bundles (a `sourceMappingURL` comment): production pages never point browsers at them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(root, 'public/build');
const manifestFile = path.join(out, 'manifest.json');
const scripts = { room: 'src/client/room.ts', home: 'src/client/home.ts', connectivity: 'src/client/connectivity.ts' };
const styles = { app: 'public/css/app.css', connectivity: 'public/css/connectivity.css', admin: 'public/css/admin.css' };
/** Copied as they are (already minified), under a content-hashed name. */
const copies = {
  'htmx.min.js': 'node_modules/htmx.org/dist/htmx.min.js',
  // htmx's CSP extension: htmx attributes count only on server-stamped elements (hx-nonce), and htmx eval is gated.
  'hx-csp.js': 'node_modules/htmx.org/dist/ext/hx-csp.min.js',
};
/** What each page loads, by logical name (manifest key); anything else is a path under public/. */
const pages = {
  'room page': ['room.js', 'app.css', 'favicon.svg'],
  'home page': ['htmx.min.js', 'hx-csp.js', 'home.js', 'app.css', 'favicon.svg'],
  'connectivity page': ['connectivity.js', 'app.css', 'connectivity.css', 'favicon.svg'],
  'admin page': ['htmx.min.js', 'hx-csp.js', 'app.css', 'admin.css', 'favicon.svg'],
};
const COMPRESSIBLE = /\.(js|css)$/;

const readManifest = () => {
  try {
    return JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  } catch {
    return undefined;
  }
};
const fileOf = (url) => path.join(root, 'public', url);

if (process.argv.includes('--if-missing')) {
  const manifest = readManifest();
  const logical = [...Object.keys(scripts).map((n) => `${n}.js`), ...Object.keys(styles).map((n) => `${n}.css`), ...Object.keys(copies)];
  if (manifest && logical.every((name) => typeof manifest[name] === 'string' && fs.existsSync(fileOf(manifest[name])))) {
    console.log('build: bundles present, skipping (run `npm run build` to rebuild)');
    process.exit(0);
  }
}

const started = Date.now();
const development = process.env.NODE_ENV === 'development';
const esbuild = await import('esbuild');
fs.mkdirSync(out, { recursive: true });

const common = {
  outdir: out,
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  write: false,
  metafile: true,
  target: ['chrome111', 'firefox115', 'safari16'],
  sourcemap: development ? 'linked' : 'external',
  // esbuild's [hash] leaves out the sourceMappingURL comment: without this, a development bundle
  // would get the same name as the production one, and a year in every cache under it.
  ...(development ? { banner: { js: '/* development build */', css: '/* development build */' } } : {}),
  logLevel: 'warning',
};
const [scriptBuild, styleBuild] = await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: Object.fromEntries(Object.entries(scripts).map(([name, file]) => [name, path.join(root, file)])),
    format: 'iife',
    legalComments: 'linked',
    define: { 'process.env.NODE_ENV': '"production"' },
  }),
  esbuild.build({ ...common, entryPoints: Object.fromEntries(Object.entries(styles).map(([name, file]) => [name, path.join(root, file)])) }),
]);

/** Files this build wrote (new or changed content): their precompressed siblings are made afresh. */
const written = new Set();
/** Written next to the target and renamed over it: a server reading meanwhile never sees half a file. Unchanged files are left alone. */
function writeAtomic(file, contents) {
  try {
    if (fs.readFileSync(file).equals(contents)) return;
  } catch {}
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, contents);
  fs.renameSync(tmp, file);
  written.add(file);
}

const manifest = {};
/** Every file of this build, by base name (its .br/.gz/.map/.LEGAL.txt siblings share the prefix). */
const current = new Set();
for (const build of [scriptBuild, styleBuild]) {
  for (const file of build.outputFiles) {
    writeAtomic(file.path, Buffer.from(file.contents));
    current.add(path.basename(file.path));
  }
  for (const [output, meta] of Object.entries(build.metafile.outputs)) {
    if (!meta.entryPoint) continue;
    const name = path.basename(output);
    const logical = name.replace(/-[A-Z0-9]{8}(\.[a-z]+)$/, '$1');
    manifest[logical] = `/build/${name}`;
  }
}
for (const [logical, source] of Object.entries(copies)) {
  const contents = fs.readFileSync(path.join(root, source));
  const name = logical.replace(/(\.js)$/, `-${contentHash(contents)}$1`);
  writeAtomic(path.join(out, name), contents);
  current.add(name);
  manifest[logical] = `/build/${name}`;
}

/** 8 base-32 characters of the content's SHA-256, the same shape as esbuild's [hash]. */
function contentHash(contents) {
  const digest = crypto.createHash('sha256').update(contents).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0n;
  for (const byte of digest.subarray(0, 5)) bits = (bits << 8n) | BigInt(byte);
  let hash = '';
  for (let i = 7; i >= 0; i--) hash += alphabet[Number((bits >> BigInt(i * 5)) & 31n)];
  return hash;
}

// Precompressed siblings, served by Accept-Encoding (src/http/static.ts). A file this build left
// unchanged keeps its siblings. Only kept when smaller than the file itself.
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);
await Promise.all(
  Object.values(manifest)
    .filter((url) => COMPRESSIBLE.test(url))
    .flatMap((url) => {
      const file = fileOf(url);
      const raw = fs.readFileSync(file);
      const variants = [
        ['.br', () => brotli(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length } })],
        ['.gz', () => gzip(raw, { level: 9 })],
      ];
      return variants.map(async ([ext, compress]) => {
        const target = file + ext;
        if (!written.has(file) && fs.existsSync(target)) return;
        const packed = await compress();
        if (packed.length < raw.length) writeAtomic(target, packed);
        else fs.rmSync(target, { force: true });
      });
    }),
);

// Replace the manifest, then drop files of older builds. The previous build's files stay: a server
// that read the old manifest a moment ago (or a page it just sent) may still ask for them. Files
// newer than this build's start belong to a build running alongside this one.
const previous = readManifest() ?? {};
writeAtomic(manifestFile, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
const keep = [...current, ...Object.values(previous).map((url) => path.basename(String(url)))];
for (const name of fs.readdirSync(out)) {
  if (name === 'manifest.json' || name.includes('.tmp-') || keep.some((kept) => name === kept || name.startsWith(`${kept}.`))) continue;
  const file = path.join(out, name);
  if (fs.statSync(file).mtimeMs < started) fs.rmSync(file, { force: true });
}

// What each page costs to load, as sent: identity, gzip and brotli (a file without a precompressed
// sibling is sent as it is).
const kb = (n) => `${(n / 1024).toFixed(1)} KB`.padStart(9);
const sizeOf = (file) => (fs.existsSync(file) ? fs.statSync(file).size : undefined);
for (const [page, assets] of Object.entries(pages)) {
  const total = { raw: 0, gz: 0, br: 0 };
  console.log(`${page}:`);
  for (const asset of assets) {
    const url = manifest[asset] ?? `/${asset}`;
    const file = fileOf(url);
    const raw = fs.statSync(file).size;
    const gz = sizeOf(`${file}.gz`) ?? raw;
    const br = sizeOf(`${file}.br`) ?? raw;
    total.raw += raw;
    total.gz += gz;
    total.br += br;
    console.log(`  ${url.padEnd(32)} ${kb(raw)} raw ${kb(gz)} gzip ${kb(br)} brotli`);
  }
  console.log(`  ${'total'.padEnd(32)} ${kb(total.raw)} raw ${kb(total.gz)} gzip ${kb(total.br)} brotli`);
}
