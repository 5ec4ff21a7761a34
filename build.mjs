// Bundles the browser modules with esbuild and prints the size of every asset the pages load.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(root, 'public/build');
const entries = { room: 'src/client/room.ts', home: 'src/client/home.ts', connectivity: 'src/client/connectivity.ts' };
const outputs = [...Object.keys(entries).map((name) => `${name}.js`), 'htmx.min.js', 'hx-csp.js'];

if (process.argv.includes('--if-missing') && outputs.every((file) => fs.existsSync(path.join(out, file)))) {
  console.log('build: bundles present, skipping (run `npm run build` to rebuild)');
  process.exit(0);
}

const esbuild = await import('esbuild');
fs.mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, path.join(root, file)])),
  outdir: out,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome111', 'firefox115', 'safari16'],
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});
fs.copyFileSync(path.join(root, 'node_modules/htmx.org/dist/htmx.min.js'), path.join(out, 'htmx.min.js'));
// htmx's CSP extension: htmx attributes count only on server-stamped elements (hx-nonce), and htmx eval is gated.
fs.copyFileSync(path.join(root, 'node_modules/htmx.org/dist/ext/hx-csp.min.js'), path.join(out, 'hx-csp.js'));

const pages = {
  'room page': ['build/room.js', 'css/app.css', 'favicon.svg'],
  'home page': ['build/htmx.min.js', 'build/hx-csp.js', 'build/home.js', 'css/app.css', 'favicon.svg'],
  'connectivity page': ['build/connectivity.js', 'css/app.css', 'css/connectivity.css', 'favicon.svg'],
};
const kb = (n) => `${(n / 1024).toFixed(1)} KB`.padStart(9);
for (const [page, assets] of Object.entries(pages)) {
  let raw = 0;
  let gz = 0;
  console.log(`${page}:`);
  for (const asset of assets) {
    const body = fs.readFileSync(path.join(root, 'public', asset));
    const gzip = zlib.gzipSync(body, { level: 9 }).length;
    raw += body.length;
    gz += gzip;
    console.log(`  ${asset.padEnd(20)} ${kb(body.length)} raw ${kb(gzip)} gzip`);
  }
  console.log(`  ${'total'.padEnd(20)} ${kb(raw)} raw ${kb(gz)} gzip`);
}
