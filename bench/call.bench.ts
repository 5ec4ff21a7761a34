/**
 * `npm run bench:call`: what one receiver of a 16-person call gets and spends, with simulcast and
 * without, in the same run.
 *
 * One in-process Parley server (real mediasoup worker, loopback). 15 bot participants are seated
 * straight into the room (bench/call/bots.ts), each sending pre-encoded VP8 (made at bench time by
 * Debian's ffmpeg: 180p/360p/720p, 30 fps) and Opus as RTP from this process (bench/call/replayer.ts).
 * One real headless Chromium page (1280×800, grid layout) joins as the 16th; it publishes its own
 * fake camera and microphone as any participant would (nobody consumes them). Once it decodes every
 * bot's video, after BENCH_CALL_SETTLE seconds (default 5) it is measured for BENCH_CALL_SECONDS
 * (default 20) from its RTCPeerConnections' getStats(): total inbound video bitrate; each tile's
 * decoded height, frames per second and freezes; the CPU of all Chromium processes. Then a bot's tile
 * is pinned (its "Pin <name>" button) and the time until that tile shows frames ≥ 540 lines tall is taken.
 * The same again with the bots sending only their 720p stream (simulcast off), in a fresh room.
 *
 * The bots answer PLIs with a key frame as a browser's encoder would (BENCH_CALL_KEYFRAME_ON_PLI=0:
 * they do not, and a layer switch waits for the clip's next key frame, every 2 s).
 *
 * Inbound video counts every inbound video stream of the page, including one no tile shows
 * (mediasoup-client's bandwidth "probator", padding while the SFU probes the downlink).
 *
 * BENCH_CALL_PUBLISHERS (default 15), BENCH_CALL_SPEAKER: rotate (default; one bot speaks at a time,
 * in turn every 3 s) | fixed (Bot 1) | none, BENCH_CALL_MODES: on,off (default) or one of them.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import type { Parley } from '../src/app.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/helpers/chromium.ts';
import { startTestServer } from '../test/helpers/server.ts';
import { startBots, type Bots } from './call/bots.ts';
import { chromiumDelta, chromiumSeconds, machineTicks, processSeconds } from './call/cpu.ts';
import { makeMedia, type Media } from './call/media.ts';
import { probe, type CallBenchWindow, type PageSample, type SwitchWatch } from './call/probe.ts';
import { measureWindow, type StreamTotals, type WindowTotals } from './call/window.ts';
import type { SpeakerMode } from './call/replayer.ts';
import { env, percentile, sleep } from './lib.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PUBLISHERS = Math.max(1, Math.round(env('BENCH_CALL_PUBLISHERS', 15)));
const SETTLE_S = env('BENCH_CALL_SETTLE', 5);
const SECONDS = Math.max(1, env('BENCH_CALL_SECONDS', 20));
const SPEAKER = (process.env.BENCH_CALL_SPEAKER || 'rotate') as SpeakerMode;
const MODES = (process.env.BENCH_CALL_MODES || 'on,off').split(',').map((m) => m.trim() === 'on');
const KEYFRAME_ON_PLI = env('BENCH_CALL_KEYFRAME_ON_PLI', 1) > 0;
const READY_TIMEOUT_MS = 60_000;
const SWITCH_TIMEOUT_MS = 10_000;
const SPOTLIGHT_HEIGHT = 540;
/** BENCH_CALL_DOWNLINK_KBIT (e.g. 1500): the receiver runs in its own network namespace behind a link of that rate (needs root, ip, tc). */
const DOWNLINK_KBIT = env('BENCH_CALL_DOWNLINK_KBIT', 0);

interface Tile {
  name: string;
  height: number;
  fps: number;
  kbps: number;
  freezes: number;
  freezeSeconds: number;
  lost: number;
  dropped: number;
  visible: boolean;
  /** No tile shows its stream at the end of the window (the page was reconnecting): height and visibility from before. */
  stale: boolean;
}

interface Result {
  simulcast: boolean;
  seconds: number;
  videoKbps: number;
  /** What the SFU sent the receiver's video consumers over the window, kbps. */
  sfuSentKbps: number;
  audioKbps: number;
  /** Audio packets lost over the window, % of those sent (received + lost). */
  audioLossPct: number;
  tiles: Tile[];
  chromiumCpu: number;
  /** Busy share of all cores of the machine (whatever else runs on it too), %. */
  machineBusy: number;
  /** The SFU's estimate of the receiver's downlink (its receive transport), at the window's end and after the switch, kbps. */
  downlinkKbps: number;
  downlinkAfterSwitchKbps: number;
  workerCpu: number;
  nodeCpu: number;
  /** Inbound video streams no tile shows (the probator), kbps. */
  untiledKbps: number;
  /** Peer connections the page made / streams that started during the window (a reconnect). */
  newConnections: number;
  newStreams: number;
  /** ms from the pin click until the pinned tile showed frames ≥ SPOTLIGHT_HEIGHT tall; undefined if it never did. */
  switchMs: number | undefined;
  switchHeight: number;
  switchName: string;
  switchTrace: string;
  rtcpIn: number;
  plisIn: number;
  keyFramesOnPli: number;
  lateFrames: number;
  maxLateMs: number;
}

const sample = (page: Page) => page.evaluate(() => (window as unknown as CallBenchWindow).__callBench.sample());

async function join(browser: Browser, server: Parley, roomId: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['camera', 'microphone'] });
  await context.addInitScript(probe);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.warn(`  page error: ${error.message}`));
  await page.goto(`${server.url}/r/${roomId}`, { waitUntil: 'load' });
  await page.getByRole('textbox', { name: 'Your name' }).fill('Receiver');
  await page.getByRole('button', { name: 'Join call' }).click();
  return page;
}

/**
 * Until `count` inbound video streams have decoded frames (and keep decoding): how many do. Behind a
 * weak link some may never start (that is what is measured then); on an open one that is a failure.
 */
async function waitForDecoding(page: Page, count: number): Promise<number> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  let last: PageSample | undefined;
  for (;;) {
    const now = await sample(page);
    const decoding = now.video.filter((v) => v.framesDecoded > 0 && (last?.video.find((l) => l.id === v.id)?.framesDecoded ?? 0) < v.framesDecoded);
    if (decoding.length >= count) return decoding.length;
    if (performance.now() > deadline && DOWNLINK_KBIT > 0) return decoding.length;
    if (performance.now() > deadline) throw new Error(`only ${decoding.length} of ${count} remote videos decoding after ${READY_TIMEOUT_MS / 1000} s`);
    last = now;
    await sleep(500);
  }
}

/** Per bot, its streams of the window together (one, unless the page replaced it), lowest fps first. */
function tilesOf(measured: WindowTotals, bots: Bots): Tile[] {
  return bots.users
    .map(({ userId, userName }) => {
      const streams = measured.streams.filter((t) => t.userId === userId);
      // The one its tile shows now; if none does (the page is reconnecting), the one it showed last.
      const live = streams.find((t) => t.shownAtEnd) ?? streams.toSorted((a, b) => b.shownAt - a.shownAt)[0];
      const sum = (key: 'bytes' | 'frames' | 'freezes' | 'freezeSeconds' | 'lost' | 'dropped') => streams.reduce((n, t) => n + t[key], 0);
      return {
        name: userName,
        height: live?.height ?? 0,
        fps: sum('frames') / measured.seconds,
        kbps: (sum('bytes') * 8) / measured.seconds / 1000,
        freezes: sum('freezes'),
        freezeSeconds: sum('freezeSeconds'),
        lost: sum('lost'),
        dropped: sum('dropped'),
        visible: live?.visible ?? false,
        stale: !live?.shownAtEnd,
      };
    })
    .sort((a, b) => a.fps - b.fps);
}

/** Pins `userName`'s tile and times (on the page) until it shows frames ≥ SPOTLIGHT_HEIGHT tall. */
async function spotlight(page: Page, bots: Bots, userName: string): Promise<SwitchWatch> {
  const userId = bots.users.find((u) => u.userName === userName)!.userId;
  const pin = page.getByRole('button', { name: `Pin ${userName}`, exact: true });
  await pin.hover();
  await page.evaluate(([id, min, timeout]) => (window as unknown as CallBenchWindow).__callBench.armSwitchWatch(id, min, timeout), [userId, SPOTLIGHT_HEIGHT, SWITCH_TIMEOUT_MS] as const);
  await pin.click();
  return page.evaluate(() => (window as unknown as CallBenchWindow).__callBench.switched!);
}

const receiverOf = (server: Parley, roomId: string, bots: Bots) =>
  [...(server.registry.get(roomId)?.peers.values() ?? [])].find((p) => !bots.users.some((u) => u.userId === p.userId));

/** The SFU's available outgoing bitrate towards the receiver (its consuming transport), kbps. */
async function receiverDownlinkKbps(server: Parley, roomId: string, bots: Bots): Promise<number> {
  const transport = [...(receiverOf(server, roomId, bots)?.transports.values() ?? [])].find((t) => t.appData.consuming);
  const [stats] = transport ? await transport.getStats() : [];
  return (stats?.availableOutgoingBitrate ?? Number.NaN) / 1000;
}

/** Bytes each of the receiver's video consumers has sent so far (mediasoup's outbound-rtp byteCount, retransmissions included). */
async function consumerBytes(server: Parley, roomId: string, bots: Bots): Promise<Map<string, number>> {
  const consumers = [...(receiverOf(server, roomId, bots)?.consumers.values() ?? [])].filter((c) => c.kind === 'video' && !c.closed);
  const bytes = await Promise.all(consumers.map(async (c) => (await c.getStats().catch(() => [])).find((s) => s.type === 'outbound-rtp')?.byteCount ?? 0));
  return new Map(consumers.map((c, i) => [c.id, bytes[i]!]));
}

async function runMode(browser: Browser, server: Parley, media: Media, simulcast: boolean): Promise<Result> {
  const roomId = `bench-call-${simulcast ? 'on' : 'off'}-${Date.now().toString(36)}`;
  await server.store.registerRoom(roomId); // rooms exist only once minted
  const bots = await startBots(server, roomId, media, { count: PUBLISHERS, simulcast, speaker: SPEAKER, keyFrameOnPli: KEYFRAME_ON_PLI });
  const workerPid = server.registry.get(roomId)!.mediaWorker.worker.pid;
  let page: Page | undefined;
  try {
    page = await join(browser, server, roomId);
    const decoding = await waitForDecoding(page, PUBLISHERS);
    console.log(`  simulcast ${simulcast ? 'on' : 'off'}: ${decoding} of ${PUBLISHERS} remote videos decoding; settling ${SETTLE_S} s, then measuring ${SECONDS} s`);
    await sleep(SETTLE_S * 1000);

    Object.assign(bots.replayer.stats, { lateFrames: 0, maxLateMs: 0 }); // sender timing: the window's alone
    // What the SFU sends the receiver, sampled with the page (a reconnect replaces the consumers): new ones count from zero.
    let sent = await consumerBytes(server, roomId, bots);
    const sentFrom = performance.now();
    let sentBytes = 0;
    let sentSeconds = 0;
    const sampleSent = async () => {
      const now = await consumerBytes(server, roomId, bots);
      for (const [id, bytes] of now) sentBytes += bytes - (sent.get(id) ?? 0);
      sent = now;
      sentSeconds = (performance.now() - sentFrom) / 1000;
    };
    const before = { chromium: chromiumSeconds(), worker: processSeconds(workerPid) ?? 0, node: process.cpuUsage(), machine: machineTicks(), at: performance.now() };
    const measured = await measureWindow(() => sample(page!), SECONDS, sampleSent);
    const after = { chromium: chromiumSeconds(), worker: processSeconds(workerPid) ?? 0, node: process.cpuUsage(before.node), machine: machineTicks(), at: performance.now() };
    const downlinkKbps = await receiverDownlinkKbps(server, roomId, bots);
    const wall = (after.at - before.at) / 1000;
    const tiles = tilesOf(measured, bots);
    const { lateFrames, maxLateMs } = bots.replayer.stats;
    const percent = (cpuSeconds: number) => (cpuSeconds / wall) * 100;
    const kbps = (streams: StreamTotals[]) => (streams.reduce((n, t) => n + t.bytes, 0) * 8) / measured.seconds / 1000;

    // Spotlight the bot whose stream is smallest now (the first such), as a user would pin a thumbnail.
    const target = [...tiles].filter((t) => t.visible).sort((a, b) => a.height - b.height)[0]?.name ?? bots.users[0]!.userName;
    const switched = await spotlight(page, bots, target);
    return {
      simulcast,
      seconds: measured.seconds,
      videoKbps: kbps(measured.streams),
      sfuSentKbps: (sentBytes * 8) / sentSeconds / 1000,
      untiledKbps: kbps(measured.streams.filter((t) => !bots.users.some((u) => u.userId === t.userId))),
      audioKbps: (measured.audioBytes * 8) / measured.seconds / 1000,
      audioLossPct: (measured.audioLost / Math.max(1, measured.audioReceived + measured.audioLost)) * 100,
      newConnections: measured.newConnections,
      newStreams: measured.newStreams,
      tiles,
      chromiumCpu: percent(chromiumDelta(before.chromium, after.chromium)),
      machineBusy: ((after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total)) * 100,
      downlinkKbps,
      downlinkAfterSwitchKbps: await receiverDownlinkKbps(server, roomId, bots),
      workerCpu: percent(after.worker - before.worker),
      nodeCpu: percent((after.node.user + after.node.system) / 1e6),
      switchMs: switched.ms,
      switchHeight: switched.height,
      switchName: target,
      switchTrace: switched.trace,
      rtcpIn: bots.replayer.stats.rtcpIn,
      plisIn: bots.replayer.stats.plisIn,
      keyFramesOnPli: bots.replayer.stats.keyFramesOnPli,
      lateFrames,
      maxLateMs,
    };
  } finally {
    await page?.context().close();
    bots.close();
  }
}

/** "720p×12, 360p×3": how many tiles decode at each height. */
function heights(tiles: Tile[]): string {
  const counts = new Map<number, number>();
  for (const t of tiles) counts.set(t.height, (counts.get(t.height) ?? 0) + 1);
  return [...counts].sort((a, b) => b[0] - a[0]).map(([h, n]) => `${h}p×${n}`).join(', ');
}

function table(title: string, header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `+-${widths.map((w) => '-'.repeat(w)).join('-+-')}-+`;
  return [title, rule, line(header), rule, ...rows.map(line), rule].join('\n');
}

function report(results: Result[]): void {
  const visible = (r: Result) => r.tiles.filter((t) => t.visible);
  const fpsOf = (r: Result) => visible(r).map((t) => t.fps);
  const freezesOf = (r: Result) => r.tiles.reduce((n, t) => n + t.freezes, 0);
  const rows: [string, (r: Result) => string][] = [
    ['inbound video, total', (r) => `${(r.videoKbps / 1000).toFixed(2)} Mbps`],
    ['… of it in no tile (probation)', (r) => `${(r.untiledKbps / 1000).toFixed(2)} Mbps`],
    ['video the SFU sent (its consumer stats)', (r) => `${(r.sfuSentKbps / 1000).toFixed(2)} Mbps`],
    ['inbound audio, total', (r) => `${(r.audioKbps / 1000).toFixed(2)} Mbps`],
    ['audio packets lost', (r) => `${r.audioLossPct.toFixed(2)} %`],
    ['bot videos decoding / visible', (r) => `${r.tiles.filter((t) => t.fps > 0).length} / ${visible(r).length} of ${r.tiles.length}`],
    ['page reconnects: new PCs / new streams', (r) => `${r.newConnections} / ${r.newStreams}`],
    ['tile heights', (r) => heights(r.tiles)],
    ['visible tile fps min / median', (r) => (fpsOf(r).length ? `${Math.min(...fpsOf(r)).toFixed(1)} / ${percentile(fpsOf(r), 50).toFixed(1)}` : 'n/a')],
    ['freezes (total s)', (r) => `${freezesOf(r)} (${r.tiles.reduce((s, t) => s + t.freezeSeconds, 0).toFixed(1)} s)`],
    ['packets lost / frames dropped', (r) => `${r.tiles.reduce((n, t) => n + t.lost, 0)} / ${r.tiles.reduce((n, t) => n + t.dropped, 0)}`],
    ['receiver Chromium CPU (% of a core)', (r) => `${r.chromiumCpu.toFixed(0)}%`],
    ['mediasoup worker / Node (SFU+bots) CPU', (r) => `${r.workerCpu.toFixed(0)}% / ${r.nodeCpu.toFixed(0)}%`],
    ['machine busy (all cores, anyone)', (r) => `${r.machineBusy.toFixed(0)}%`],
    ["SFU's downlink estimate, end / after pin", (r) => `${(r.downlinkKbps / 1000).toFixed(1)} / ${(r.downlinkAfterSwitchKbps / 1000).toFixed(1)} Mbps`],
    ['spotlight: pinned tile ≥ 540p after', (r) => (r.switchMs === undefined ? `never (${r.switchHeight}p after ${SWITCH_TIMEOUT_MS / 1000} s)` : `${r.switchMs.toFixed(0)} ms (${r.switchHeight}p)`)],
  ];
  const header = ['', ...results.map((r) => `simulcast ${r.simulcast ? 'on' : 'off'}`)];
  console.log();
  console.log(table(`Call: 1 receiver (Chromium 1280×800, grid) + ${PUBLISHERS} replayed publishers, ${SECONDS} s window, ${os.cpus().length} cores`, header, rows.map(([name, cell]) => [name, ...results.map(cell)])));
  for (const r of results) {
    const mode = `simulcast ${r.simulcast ? 'on ' : 'off'}`;
    const tiles = [...r.tiles]
      .sort((a, b) => Number(a.name.slice(4)) - Number(b.name.slice(4)))
      .map((t) => `${t.name.replace('Bot ', '#')} ${t.height}p ${t.fps.toFixed(0)}fps ${(t.kbps / 1000).toFixed(2)}M${t.freezes ? ` ${t.freezes}frz` : ''}${t.visible ? '' : ' hidden'}${t.stale ? ' (before a reconnect)' : ''}`);
    console.log(`${mode} tiles: ${tiles.join('; ')}`);
    console.log(`${mode} pinned ${r.switchName} (ms after the click: ${r.switchTrace}); from the SFU: ${r.rtcpIn} RTCP packets, ${r.plisIn} PLIs (${r.keyFramesOnPli} key frames sent on request); in the window the replayer sent ${r.lateFrames} frames > 50 ms late, worst ${r.maxLateMs.toFixed(0)} ms`);
  }

  const on = results.find((r) => r.simulcast);
  const off = results.find((r) => !r.simulcast);
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  console.log();
  if (on && off) {
    console.log(`ratio inbound video off/on: ${(off.videoKbps / on.videoKbps).toFixed(2)}× (of what the SFU sent: ${(off.sfuSentKbps / on.sfuSentKbps).toFixed(2)}×)`);
    const struggled = results.filter((r) => r.newConnections > 0 || r.sfuSentKbps > 1.2 * r.videoKbps);
    for (const r of struggled) {
      console.log(`note: with simulcast ${r.simulcast ? 'on' : 'off'} the receiver got ${(r.videoKbps / 1000).toFixed(1)} of the ${(r.sfuSentKbps / 1000).toFixed(1)} Mbps sent${r.newConnections > 0 ? ' and reconnected' : ''}: it could not keep up, so its inbound figure understates the load`);
    }
  }
  if (on) {
    console.log(`${verdict(on.videoKbps <= 4000)}  total inbound video ≤ 4 Mbps with simulcast (${(on.videoKbps / 1000).toFixed(2)} Mbps for ${on.tiles.length} tiles, ${visible(on).length} visible)`);
    // Behind the weak link both modes get what the link carries: the ratio says nothing there.
    if (off && DOWNLINK_KBIT === 0) console.log(`${verdict(off.videoKbps / on.videoKbps >= 5)}  ≥ 5× less than without simulcast (${(off.videoKbps / on.videoKbps).toFixed(2)}×)`);
    const slowest = Math.min(...fpsOf(on));
    if (DOWNLINK_KBIT === 0) console.log(`${verdict(visible(on).length > 0 && slowest >= 12 && freezesOf(on) === 0)}  every visible tile ≥ 12 fps, no freezes (min ${slowest.toFixed(1)} fps, ${freezesOf(on)} freezes)`);
    if (DOWNLINK_KBIT > 0) {
      // Behind the weak link the pin cannot get 720p: what counts is that everything fits and keeps moving.
      console.log(`${verdict(visible(on).length === PUBLISHERS && slowest >= 5)}  weak link: every visible tile keeps decoding ≥ 5 fps (${visible(on).length} visible, min ${slowest.toFixed(1)} fps)`);
      console.log(`${verdict(on.audioLossPct < 2)}  weak link: audio loses < 2 % of packets (${on.audioLossPct.toFixed(2)} %)`);
      const top = Math.max(...on.tiles.map((t) => t.height));
      console.log(`${verdict(on.videoKbps < DOWNLINK_KBIT && top < 720)}  weak link: the SFU's layers come down to fit (${(on.videoKbps / 1000).toFixed(2)} Mbps of ${(DOWNLINK_KBIT / 1000).toFixed(1)}, tallest tile ${top}p, pinned tile ${on.switchHeight}p)`);
    } else {
      console.log(`${verdict(on.switchMs !== undefined && on.switchMs <= 3000)}  spotlighted tile ≥ 540p within 3 s of the switch (${on.switchMs === undefined ? 'never' : `${on.switchMs.toFixed(0)} ms`})`);
    }
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  execFileSync(process.execPath, ['build.mjs', '--if-missing'], { cwd: ROOT, stdio: 'ignore' });
  const encoding = performance.now();
  const media = makeMedia();
  console.log(`Call benchmark: media made in ${((performance.now() - encoding) / 1000).toFixed(1)} s (${media.layers.map((l) => `${l.height}p ${l.kbps}k`).join(', ')}; ${media.layers[0]!.frames.length} frames), speaker ${SPEAKER}, key frames on PLI ${KEYFRAME_ON_PLI ? 'yes' : 'no'}`);
  const link = DOWNLINK_KBIT > 0 ? weakLink(DOWNLINK_KBIT) : undefined;
  const server = await startTestServer({ workers: 1, ...(link ? { env: { HOST: link.hostIp, RTC_LISTEN_IP: link.hostIp, ANNOUNCED_IP: link.hostIp } } : {}) });
  let browser: Browser | undefined;
  try {
    if (link) console.log(`Receiver behind ${DOWNLINK_KBIT} kbit/s (namespace ${link.ns}, tc tbf on ${link.hostDev})`);
    browser = link
      ? await chromium.launch({ executablePath: link.chromium, args: [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=${server.url}`] })
      : await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const results: Result[] = [];
    for (const simulcast of MODES) results.push(await runMode(browser, server, media, simulcast));
    report(results);
    console.log(`\nChromium ${browser.version()}; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await browser?.close();
    await server.close();
    link?.remove();
  }
}

/**
 * A namespace for the receiver, joined to this one by a veth pair; what goes to it (the downlink) is
 * shaped to `kbit` with a token bucket on this side's end. Server and bots stay here.
 */
function weakLink(kbit: number): { ns: string; hostDev: string; hostIp: string; chromium: string; remove(): void } {
  const ns = `parleybench-${process.pid}`;
  const hostDev = `pb${process.pid % 100000}h`;
  const nsDev = `pb${process.pid % 100000}n`;
  const [hostIp, nsIp] = ['10.88.0.1', '10.88.0.2'];
  const run = (...args: string[]) => execFileSync(args[0]!, args.slice(1), { stdio: 'pipe' });
  run('ip', 'netns', 'add', ns);
  run('ip', 'link', 'add', hostDev, 'type', 'veth', 'peer', 'name', nsDev);
  run('ip', 'link', 'set', nsDev, 'netns', ns);
  run('ip', 'addr', 'add', `${hostIp}/24`, 'dev', hostDev);
  run('ip', 'link', 'set', hostDev, 'up');
  run('ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${nsIp}/24`, 'dev', nsDev);
  run('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', nsDev, 'up');
  run('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  run('tc', 'qdisc', 'add', 'dev', hostDev, 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', '32kbit', 'latency', '200ms');
  const chromiumWrapper = path.join(os.tmpdir(), `${ns}-chromium.sh`);
  fs.writeFileSync(chromiumWrapper, `#!/bin/sh\nexec ip netns exec '${ns}' '${CHROMIUM_PATH}' "$@"\n`, { mode: 0o755 });
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    try {
      execFileSync('ip', ['link', 'del', hostDev], { stdio: 'ignore' });
    } catch {}
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {}
    fs.rmSync(chromiumWrapper, { force: true });
  };
  process.once('exit', remove);
  return { ns, hostDev, hostIp, chromium: chromiumWrapper, remove };
}

await main();
