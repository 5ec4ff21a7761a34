/**
 * `npm run bench:join`: how long from clicking "Join call" until the first frame of the other
 * participant's camera is decoded, in real headless Chromium (fake camera and microphone), for
 * Parley's room page and for a minimal mediasoup-client page (bench/join/minimal.ts) that talks to
 * the same server with the same protocol, every step in series after the click.
 *
 * One in-process Parley server (real mediasoup worker, loopback), one room, one publisher page (the
 * minimal page with `role=publisher`: camera and microphone) that stays in the room. Then, for each
 * sample, a fresh browser context opens the page, fills "Your name" and clicks "Join call"; a script
 * injected before the page's own takes the click time and the time the first frame of a remote
 * video track shows up (frames decoded into a <video> fed by an RTCRtpReceiver's track), both on the
 * page's clock. Parley and minimal samples alternate so machine load hits both alike.
 *
 * BENCH_JOIN_SAMPLES (default 20) samples per page after BENCH_JOIN_WARMUP (default 1) discarded
 * ones; BENCH_JOIN_THINK_MS (default 0) waits that long after the page is loaded and idle before
 * the click (time for work a page does before Join). Also prints the median time of each timeline
 * mark the pages write (`parley:*` from the room page, after its `parley:click`; `minimal:*` from
 * the minimal page), to show where the time goes.
 */
import { execFileSync } from 'node:child_process';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/helpers/chromium.ts';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import type { Parley } from '../src/app.ts';
import { startTestServer } from '../test/helpers/server.ts';
import { env, percentile, sleep, table } from './lib.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLES = Math.max(1, env('BENCH_JOIN_SAMPLES', 20));
const WARMUP = env('BENCH_JOIN_WARMUP', 1);
const THINK_MS = env('BENCH_JOIN_THINK_MS', 0);
const SAMPLE_TIMEOUT_MS = 30_000;
/** The marks the room page writes (`parley:<name>`), in the order a join passes them. */
const MARKS = ['click', 'joined', 'recv-transport', 'send-transport', 'dtls-connected', 'first-consume', 'consumer-resumed', 'first-frame'];

type Kind = 'parley' | 'minimal';
interface Sample {
  ms: number;
  /**
   * The page's timeline marks without their prefix (`parley:joined` → `joined`), ms after the click:
   * for the room page its own `parley:click` mark, for the minimal page the bench's click time.
   */
  marks: Record<string, number>;
}

/**
 * Injected into every sample page before its scripts (the page's CSP does not apply): the click
 * time, and the first time a <video> showing a remote track (one an RTCPeerConnection receives) has
 * a decoded frame — polled every few ms, and from requestVideoFrameCallback where the video paints.
 */
function probe(): void {
  const w = window as unknown as { __joinBench: { click?: number; frame?: number } };
  const bench: { click?: number; frame?: number } = {};
  w.__joinBench = bench;
  const connections: RTCPeerConnection[] = [];
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
      super(...args);
      connections.push(this);
    }
  };
  const remote = (track: MediaStreamTrack | undefined) => !!track && connections.some((pc) => pc.signalingState !== 'closed' && pc.getReceivers().some((r) => r.track === track));
  const remoteTrackOf = (video: HTMLVideoElement) => {
    const source = video.srcObject;
    const track = source instanceof MediaStream ? source.getVideoTracks()[0] : undefined;
    return remote(track) ? track : undefined;
  };
  const found = (at: number) => {
    if (bench.click !== undefined && (bench.frame === undefined || at < bench.frame)) bench.frame = Math.max(at, bench.click);
  };
  const watched = new WeakSet<HTMLVideoElement>();
  const watch = (video: HTMLVideoElement) => {
    video.requestVideoFrameCallback((now, meta) => {
      if (remoteTrackOf(video)) found(Math.min(now, meta.presentationTime));
      else watch(video);
    });
  };
  const scan = () => {
    for (const video of document.querySelectorAll('video')) {
      if (!remoteTrackOf(video)) continue;
      if (!watched.has(video)) {
        watched.add(video);
        watch(video);
      }
      if (video.videoWidth > 0 || video.getVideoPlaybackQuality().totalVideoFrames > 0) found(performance.now());
    }
    if (bench.frame === undefined) setTimeout(scan, 4);
  };
  // Capture phase on window: before any handler of the page's own.
  window.addEventListener(
    'click',
    () => {
      if (bench.click !== undefined) return;
      bench.click = performance.now();
      scan();
    },
    true,
  );
}

/** The minimal page and its bundle, served by the Parley server itself under /__bench/ (same origin). */
async function serveMinimalPage(server: Parley): Promise<number> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(ROOT, 'bench/join/minimal.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome111', 'firefox115', 'safari16'],
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'warning',
  });
  const script = Buffer.from(result.outputFiles[0]!.contents);
  const html = fs.readFileSync(path.join(ROOT, 'bench/join/minimal.html'));
  const http = server.httpServer;
  const listeners = http.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  http.removeAllListeners('request');
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const pathname = new URL(req.url ?? '/', 'http://bench.invalid').pathname;
    if (pathname === '/__bench/minimal') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
    if (pathname === '/__bench/minimal.js') return void res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(script);
    for (const listener of listeners) listener.call(http, req, res);
  });
  return script.length;
}

async function mintRoom(server: Parley): Promise<string> {
  const res = await fetch(`${server.url}/rooms`, { method: 'POST', redirect: 'manual' });
  const roomId = /\/r\/([A-Za-z0-9_-]+)/.exec(await res.text())?.[1];
  if (!roomId) throw new Error(`POST /rooms: no room id (status ${res.status})`);
  return roomId;
}

function pageUrl(server: Parley, kind: Kind, roomId: string): string {
  return kind === 'parley' ? `${server.url}/r/${roomId}` : `${server.url}/__bench/minimal?room=${roomId}`;
}

async function openAndJoin(browser: Browser, url: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['camera', 'microphone'] });
  await context.addInitScript(probe);
  const page = await context.newPage();
  page.setDefaultTimeout(SAMPLE_TIMEOUT_MS);
  page.on('pageerror', (error) => console.warn(`  [${name}] page error: ${error.message}`));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForLoadState('networkidle');
  await page.getByRole('textbox', { name: 'Your name' }).fill(name);
  if (THINK_MS > 0) await sleep(THINK_MS);
  await page.getByRole('button', { name: 'Join call' }).click();
  return page;
}

async function sample(browser: Browser, server: Parley, kind: Kind, roomId: string, index: number): Promise<Sample> {
  const page = await openAndJoin(browser, pageUrl(server, kind, roomId), `${kind} ${index}`);
  try {
    await page.waitForFunction(() => (window as unknown as { __joinBench: { frame?: number } }).__joinBench.frame !== undefined, undefined, { timeout: SAMPLE_TIMEOUT_MS });
    if (kind === 'parley') {
      // The client's own first-frame mark may come a moment after ours; wait a little for it, if it writes marks at all.
      await page
        .waitForFunction(() => performance.getEntriesByName('parley:click').length === 0 || performance.getEntriesByName('parley:first-frame').length > 0, undefined, { timeout: 2000 })
        .catch(() => {});
    }
    return await page.evaluate((prefix) => {
      const bench = (window as unknown as { __joinBench: { click: number; frame: number } }).__joinBench;
      const marks = performance.getEntriesByType('mark').filter((m) => m.name.startsWith(prefix));
      const click = prefix === 'parley:' ? marks.find((m) => m.name === 'parley:click')?.startTime : bench.click;
      const relative: Record<string, number> = {};
      // The first of each name (a mark written once per consumer counts at the first).
      for (const m of marks) relative[m.name.slice(prefix.length)] ??= m.startTime - click!;
      return { ms: bench.frame - bench.click, marks: click === undefined ? {} : relative };
    }, `${kind}:`);
  } finally {
    await page.context().close();
  }
}

const median = (values: number[]) => percentile(values, 50);

/** Median time of each timeline mark after the click, Parley's and the minimal page's side by side. */
function breakdown(results: Record<Kind, Sample[]>): string {
  const valuesOf = (kind: Kind, name: string) => results[kind].map((r) => r.marks[name]).filter((v): v is number => v !== undefined);
  const cell = (kind: Kind, name: string) => {
    const values = valuesOf(kind, name);
    return values.length === 0 ? '' : `${fmt(median(values))}${values.length < results[kind].length ? ` (${values.length}/${results[kind].length})` : ''}`;
  };
  // As a timeline: by Parley's median, else the minimal page's.
  const when = (name: string) => median(valuesOf('parley', name).length > 0 ? valuesOf('parley', name) : valuesOf('minimal', name));
  const names = [...new Set([...MARKS, ...(['parley', 'minimal'] as const).flatMap((kind) => results[kind].flatMap((r) => Object.keys(r.marks)))])];
  const rows = names
    .filter((name) => valuesOf('parley', name).length > 0 || valuesOf('minimal', name).length > 0)
    .sort((x, y) => when(x) - when(y))
    .map((name) => [name, cell('parley', name), cell('minimal', name)]);
  rows.push(['first remote frame (bench)', fmt(median(results.parley.map((r) => r.ms))), fmt(median(results.minimal.map((r) => r.ms)))]);
  const header = ['mark', 'Parley (parley:*)', 'minimal (minimal:*)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `+-${widths.map((w) => '-'.repeat(w)).join('-+-')}-+`;
  const note = results.parley.some((r) => Object.keys(r.marks).length > 0) ? '' : '\n(the room page wrote no parley:* performance marks)';
  return ['Breakdown: median ms after the click (samples with the mark, when not all)', rule, line(header), rule, ...rows.map(line), rule].join('\n') + note;
}
const fmt = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)} ms` : 'n/a');

async function main(): Promise<void> {
  const started = performance.now();
  // The room page's bundle: `npm run bench:join` builds first; on its own, build if there is none.
  execFileSync(process.execPath, ['build.mjs', '--if-missing'], { cwd: ROOT, stdio: 'ignore' });
  const server = await startTestServer({ workers: 1 });
  let browser: Browser | undefined;
  try {
    const minimalBytes = await serveMinimalPage(server);
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
    });
    const roomId = await mintRoom(server);
    const publisher = await openAndJoin(browser, `${pageUrl(server, 'minimal', roomId)}&role=publisher`, 'Publisher');
    await publisher.locator('body[data-state="publishing"]').waitFor({ timeout: SAMPLE_TIMEOUT_MS });

    const results: Record<Kind, Sample[]> = { parley: [], minimal: [] };
    const failures: Record<Kind, string[]> = { parley: [], minimal: [] };
    console.log(`Join benchmark: ${WARMUP} warm-up + ${SAMPLES} samples per page, alternating (Chromium ${browser.version()})`);
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const order: Kind[] = i % 2 === 0 ? ['parley', 'minimal'] : ['minimal', 'parley'];
      const line: string[] = [];
      for (const kind of order) {
        try {
          const result = await sample(browser, server, kind, roomId, i);
          line.push(`${kind} ${result.ms.toFixed(0)} ms`);
          if (i >= WARMUP) results[kind].push(result);
        } catch (error) {
          const message = (error as Error).message.split('\n')[0]!;
          line.push(`${kind} FAILED (${message})`);
          if (i >= WARMUP) failures[kind].push(message);
        }
      }
      console.log(`  ${i < WARMUP ? 'warm-up' : `#${String(i - WARMUP + 1).padStart(2)}`}: ${line.join(', ')}`);
    }

    const ms = (kind: Kind) => results[kind].map((r) => r.ms);
    const p50 = { parley: median(ms('parley')), minimal: median(ms('minimal')) };
    const ratio = p50.parley / p50.minimal;
    console.log();
    console.log(
      table('Join: click → first decoded remote video frame (headless Chromium, fake camera, loopback, 1 media worker)', [
        ['Parley room page p50 / p95', `${fmt(p50.parley)} / ${fmt(percentile(ms('parley'), 95))}`],
        ['minimal mediasoup-client page p50 / p95', `${fmt(p50.minimal)} / ${fmt(percentile(ms('minimal'), 95))}`],
        ['ratio p50 Parley / minimal', Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'n/a'],
        ['samples (failed) Parley / minimal', `${results.parley.length} (${failures.parley.length}) / ${results.minimal.length} (${failures.minimal.length})`],
        ['goal', '≤ 300 ms p50, ≤ 0.67× minimal'],
        ['met', p50.parley <= 300 && ratio <= 0.67 ? 'yes' : 'no'],
      ]),
    );

    console.log();
    console.log(breakdown(results));
    console.log(`\nminimal page bundle ${(minimalBytes / 1024).toFixed(1)} KB; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
    for (const kind of ['parley', 'minimal'] as const) {
      for (const message of new Set(failures[kind])) console.log(`${kind} failure: ${message}`);
    }
    if (results.parley.length === 0 || results.minimal.length === 0) process.exitCode = 1;
  } finally {
    await browser?.close();
    await server.close();
  }
}

await main();
