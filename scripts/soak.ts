/**
 * `npm run soak` (not in CI): starts its own server on loopback and, for SOAK_MINUTES (default 5),
 * keeps SOAK_BOTS (default 15) bots joining, producing, consuming, pausing and leaving at random in
 * SOAK_ROOMS (default 3) rooms minted with POST /rooms. Unless SOAK_BROWSER=0, a headless Chromium
 * call with two pages stays up in a room of its own the whole time (fake camera and microphone).
 *
 * At the end it prints: acks by event (ok / error, with the most common error messages), acks that
 * never came, internal server errors, what is left in the registry and the workers once everyone is
 * gone, RSS/heap growth, and whether the browser call still played video. Exit code 1 when acks
 * went unanswered, something leaked, the server failed internally, or the browser call stopped.
 *
 * Other knobs: SOAK_WORKERS (1), SOAK_SEED (random), SOAK_BOTS_IN_BROWSER_ROOM=1 (bots also join the
 * browser's room), CHROMIUM_PATH (/usr/bin/chromium).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Page } from 'playwright-core';
import type { Parley } from '../src/app.ts';
import type { RtpCapabilities } from '../src/signaling/protocol.ts';
import { workerCounts } from '../test/helpers/call.ts';
import { connectClient, type TestClient } from '../test/helpers/client.ts';
import { audioRtpParameters, FAKE_DTLS, videoRtpParameters } from '../test/helpers/fixtures.ts';
import { startTestServer } from '../test/helpers/server.ts';
import { env, mb, sleep, table } from '../bench/lib.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MINUTES = env('SOAK_MINUTES', 5);
const BOTS = Math.max(2, env('SOAK_BOTS', 15));
const ROOMS = Math.max(1, env('SOAK_ROOMS', 3));
const WORKERS = Math.max(1, env('SOAK_WORKERS', 1));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BROWSER = process.env.SOAK_BROWSER !== '0' && fs.existsSync(CHROMIUM);
const BOTS_IN_BROWSER_ROOM = process.env.SOAK_BOTS_IN_BROWSER_ROOM === '1';
const ACK_TIMEOUT_MS = 10_000;

// ---- randomness (seeded, so a run can be repeated) ----
let seed = env('SOAK_SEED', Math.floor(Math.random() * 2 ** 31));
const firstSeed = seed;
function random(): number {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (p: number) => random() < p;
const between = (min: number, max: number) => min + random() * (max - min);

// ---- bookkeeping ----
const acks = new Map<string, { ok: number; error: number; internal: number; messages: Map<string, number> }>();
const unanswered = new Map<string, number>();
let internalErrors = 0;
const lifecycle = { sessions: 0, left: 0, disconnected: 0, produced: 0, consumed: 0 };

function record(event: string, reply: unknown): void {
  const entry = acks.get(event) ?? { ok: 0, error: 0, internal: 0, messages: new Map<string, number>() };
  acks.set(event, entry);
  if (reply && typeof reply === 'object' && 'error' in reply) {
    entry.error++;
    const message = String((reply as { error: unknown }).error);
    entry.messages.set(message, (entry.messages.get(message) ?? 0) + 1);
    if (/failed on the server/.test(message)) {
      internalErrors++;
      entry.internal++;
    }
  } else {
    entry.ok++;
  }
}

/** A bot's request: the ack is recorded; a missing one too (unless this bot hung up meanwhile). */
async function call(bot: BotState, event: string, payload: unknown): Promise<Record<string, unknown> | undefined> {
  try {
    const reply = (await (bot.client.socket.timeout(ACK_TIMEOUT_MS) as unknown as { emitWithAck(e: string, p: unknown): Promise<unknown> }).emitWithAck(event, payload)) as Record<string, unknown>;
    record(event, reply);
    return 'error' in reply ? undefined : reply;
  } catch (error) {
    if (!bot.hungUp) unanswered.set(event, (unanswered.get(event) ?? 0) + 1);
    void error;
    return undefined;
  }
}

interface BotState {
  client: TestClient;
  roomId: string;
  hungUp: boolean;
  send?: string;
  recv?: string;
  producers: string[];
  consumers: string[];
  seen: Set<string>;
}

async function botSession(url: string, rooms: string[], caps: RtpCapabilities, deadline: number): Promise<void> {
  const client = await connectClient(url);
  const bot: BotState = { client, roomId: pick(rooms), hungUp: false, producers: [], consumers: [], seen: new Set() };
  lifecycle.sessions++;
  const consume = async (producerId: string) => {
    if (!bot.recv || bot.seen.has(producerId) || bot.hungUp) return;
    bot.seen.add(producerId);
    const consumer = await call(bot, 'consume', { producerId, rtpCapabilities: caps, transportId: bot.recv });
    if (consumer) {
      lifecycle.consumed++;
      bot.consumers.push(String(consumer.id));
      await call(bot, 'resumeConsumer', { consumerId: consumer.id });
    }
  };
  client.socket.on('newProducer', (p) => {
    if (chance(0.7)) void consume(p.producerId);
  });
  try {
    if (!(await call(bot, 'joinRoom', { roomId: bot.roomId, userId: client.userId, userName: `Bot ${lifecycle.sessions}` }))) return;
    const [send, recv] = await Promise.all([
      call(bot, 'createWebRtcTransport', { roomId: bot.roomId, producing: true, consuming: false }),
      call(bot, 'createWebRtcTransport', { roomId: bot.roomId, producing: false, consuming: true }),
    ]);
    bot.send = send?.id as string | undefined;
    bot.recv = recv?.id as string | undefined;
    if (bot.send && chance(0.5)) await call(bot, 'connectWebRtcTransport', { transportId: bot.send, dtlsParameters: FAKE_DTLS });
    const existing = await call(bot, 'getProducers', { roomId: bot.roomId });
    for (const p of ((existing?.producers ?? []) as { producerId: string }[]).slice(0, 12)) await consume(p.producerId);

    // Live for a while, doing what a participant does.
    const until = Math.min(deadline, Date.now() + between(2_000, 20_000));
    let mid = 0;
    while (Date.now() < until && client.socket.connected) {
      await sleep(between(50, 800));
      const roll = random();
      if (roll < 0.25 && bot.send && bot.producers.length < 3) {
        const kind = chance(0.5) ? 'video' : 'audio';
        const rtpParameters = kind === 'video' ? videoRtpParameters() : audioRtpParameters();
        rtpParameters.mid = String(mid++);
        const produced = await call(bot, 'produce', { transportId: bot.send, kind, rtpParameters, appData: { type: kind === 'video' ? 'camera' : 'mic' } });
        if (produced) {
          lifecycle.produced++;
          bot.producers.push(String(produced.producerId));
        }
      } else if (roll < 0.4 && bot.producers.length > 0) {
        const producerId = pick(bot.producers);
        await call(bot, chance(0.5) ? 'pauseProducer' : 'resumeProducer', { producerId });
      } else if (roll < 0.5 && bot.producers.length > 0) {
        const producerId = bot.producers.splice(Math.floor(random() * bot.producers.length), 1)[0]!;
        await call(bot, 'producerClosed', { producerId });
      } else if (roll < 0.6 && bot.recv) {
        await call(bot, 'restartIce', { transportId: pick([bot.recv, bot.send ?? bot.recv]) });
      } else if (roll < 0.8) {
        const list = await call(bot, 'getProducers', { roomId: bot.roomId });
        for (const p of ((list?.producers ?? []) as { producerId: string }[]).slice(0, 4)) await consume(p.producerId);
      } else {
        await call(bot, 'getRouterRtpCapabilities', { roomId: bot.roomId });
      }
    }
    if (chance(0.7)) {
      await call(bot, 'leaveRoom', { roomId: bot.roomId, userId: client.userId });
      lifecycle.left++;
    } else {
      lifecycle.disconnected++;
    }
  } finally {
    bot.hungUp = true;
    client.close();
  }
}

// ---- the browser call ----
interface BrowserCall {
  close(): Promise<void>;
  /** Per page: remote videos that are visible, sized and decoding new frames. */
  playing(): Promise<number[]>;
  problems: string[];
}

async function startBrowserCall(url: string, roomId: string): Promise<BrowserCall> {
  const build = spawnSync(process.execPath, [path.join(ROOT, 'build.mjs'), '--if-missing'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('client bundle build failed');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--autoplay-policy=no-user-gesture-required'],
  });
  const problems: string[] = [];
  const pages: Page[] = [];
  for (const name of ['Soak A', 'Soak B']) {
    const context = await browser.newContext({ permissions: ['camera', 'microphone'], viewport: { width: 1024, height: 700 } });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`${name} pageerror: ${error.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`${name} console: ${msg.text()}`);
    });
    await page.goto(`${url}/r/${roomId}`);
    await page.getByLabel('Your name').fill(name);
    await page.getByRole('button', { name: 'Join call' }).click();
    await page.locator('.status-dot.is-connected').waitFor({ timeout: 30_000 });
    pages.push(page);
  }
  const playing = () =>
    Promise.all(
      pages.map((page) =>
        page
          .evaluate(async () => {
            const videos = [...document.querySelectorAll<HTMLVideoElement>('.tile:not(.is-local) video')].filter((v) => v.checkVisibility());
            const before = videos.map((v) => v.getVideoPlaybackQuality().totalVideoFrames);
            await new Promise((r) => setTimeout(r, 1000));
            return videos.filter((v, i) => v.videoWidth > 0 && !v.paused && v.getVideoPlaybackQuality().totalVideoFrames > before[i]!).length;
          })
          .catch(() => -1),
      ),
    );
  return { close: () => browser.close(), playing, problems };
}

async function mintRoom(url: string): Promise<string> {
  const res = await fetch(`${url}/rooms`, { method: 'POST', redirect: 'manual' });
  const roomId = /\/r\/([A-Za-z0-9_-]+)/.exec(await res.text())?.[1];
  if (!roomId) throw new Error(`POST /rooms gave no room id (HTTP ${res.status})`);
  return roomId;
}

function heapAfterGc(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<number> {
  const server: Parley = await startTestServer({ workers: WORKERS, emptyRoomGraceMs: 1000 });
  console.log(`soak: ${MINUTES} min, ${BOTS} bots in ${ROOMS} rooms, browser ${BROWSER ? 'on' : 'off'}, seed ${firstSeed}, server ${server.url}`);
  let exit = 0;
  let browserCall: BrowserCall | undefined;
  try {
    const rooms = await Promise.all(Array.from({ length: ROOMS }, () => mintRoom(server.url)));
    const probe = await connectClient(server.url);
    await probe.ok('joinRoom', { roomId: rooms[0]!, userId: probe.userId, userName: 'Probe' });
    const { rtpCapabilities: caps } = await probe.ok('getRouterRtpCapabilities', { roomId: rooms[0]! });
    probe.close();

    let browserRoom: string | undefined;
    if (BROWSER) {
      browserRoom = await mintRoom(server.url);
      browserCall = await startBrowserCall(server.url, browserRoom);
      if (BOTS_IN_BROWSER_ROOM) rooms.push(browserRoom);
      const upBy = Date.now() + 30_000;
      let first = await browserCall.playing();
      while (first.some((n) => n < 1) && Date.now() < upBy) first = await browserCall.playing();
      console.log(`browser call up in ${browserRoom}: playing remote videos per page ${JSON.stringify(first)}`);
    }

    const heapStart = heapAfterGc();
    const rssStart = process.memoryUsage().rss;
    const startedAt = Date.now();
    const deadline = startedAt + MINUTES * 60_000;
    const browserSamples: number[][] = [];
    let lastReport = startedAt;

    // Keep BOTS sessions going; each slot starts a new session when one ends.
    const slots = Array.from({ length: BOTS }, async (_, slot) => {
      await sleep(slot * 100);
      while (Date.now() < deadline) {
        await botSession(server.url, rooms, caps, deadline).catch((error: Error) => {
          unanswered.set(`session: ${error.message}`, (unanswered.get(`session: ${error.message}`) ?? 0) + 1);
        });
      }
    });
    const monitor = (async () => {
      while (Date.now() < deadline) {
        await sleep(Math.min(15_000, Math.max(0, deadline - Date.now())));
        if (browserCall) browserSamples.push(await browserCall.playing());
        if (Date.now() - lastReport >= 30_000 || Date.now() >= deadline) {
          lastReport = Date.now();
          const counts = await workerCounts(server);
          console.log(
            `  t+${Math.round((Date.now() - startedAt) / 1000)} s: ${lifecycle.sessions} sessions, ${server.registry.size} rooms, ` +
              `${JSON.stringify(counts)}, rss ${mb(process.memoryUsage().rss)}${browserCall ? `, browser ${JSON.stringify(browserSamples.at(-1))}` : ''}`,
          );
        }
      }
    })();
    await Promise.all([...slots, monitor]);

    const browserFinal = browserCall ? await browserCall.playing() : undefined;
    const browserProblems = browserCall?.problems ?? [];
    await browserCall?.close();
    browserCall = undefined;

    // Everyone is gone: after the empty-room grace, nothing may be left.
    const settleDeadline = Date.now() + 15_000;
    while (Date.now() < settleDeadline && (server.registry.size > 0 || server.signaling.connections.size > 0)) await sleep(100);
    const left = await workerCounts(server);
    const heapEnd = heapAfterGc();
    const rssEnd = process.memoryUsage().rss;
    let workerRss = 0;
    for (const w of server.pool.workers) workerRss += (await w.worker.getResourceUsage()).ru_maxrss * 1024;

    const eventRows: [string, string][] = [...acks].map(([event, a]) => {
      const top = [...a.messages].sort((x, y) => y[1] - x[1]).slice(0, 2).map(([m, n]) => `${n}× ${m.slice(0, 50)}`);
      return [event, `${a.ok} ok / ${a.error} error${a.internal ? `, ${a.internal} INTERNAL` : ''}${top.length ? ` (${top.join('; ')})` : ''}`];
    });
    const totalUnanswered = [...unanswered.values()].reduce((a, b) => a + b, 0);
    const leaked = { rooms: server.registry.size, connections: server.signaling.connections.size, ...left };
    const leakedTotal = leaked.rooms + leaked.connections + left.routers + left.transports + left.producers + left.consumers;
    const samplesOk = browserSamples.filter((s) => s.every((n) => n >= 1)).length;
    const browserOk = browserFinal ? browserFinal.every((n) => n >= 1) : undefined;

    console.log('\n' + table('Acks by event', eventRows));
    console.log(
      '\n' +
        table('Soak summary', [
          ['duration', `${((Date.now() - startedAt) / 60_000).toFixed(1)} min`],
          ['bot sessions (left / disconnected)', `${lifecycle.sessions} (${lifecycle.left} / ${lifecycle.disconnected})`],
          ['producers / consumers created', `${lifecycle.produced} / ${lifecycle.consumed}`],
          ['unanswered acks', `${totalUnanswered}${totalUnanswered ? ` ${JSON.stringify(Object.fromEntries(unanswered))}` : ''}`],
          ['internal server errors', String(internalErrors)],
          ['leaked rooms / connections', `${leaked.rooms} / ${leaked.connections}`],
          ['leaked routers / transports', `${left.routers} / ${left.transports}`],
          ['leaked producers / consumers', `${left.producers} / ${left.consumers}`],
          ['RSS start → end', `${mb(rssStart)} → ${mb(rssEnd)} (${mb(rssEnd - rssStart)})`],
          ['heap after GC start → end', `${mb(heapStart)} → ${mb(heapEnd)} (${mb(heapEnd - heapStart)})`],
          ['worker max RSS (sum)', mb(workerRss)],
          ['browser call playing at the end', browserFinal ? `${browserOk ? 'yes' : 'NO'} (remote videos per page ${JSON.stringify(browserFinal)})` : 'not run'],
          ['browser samples with video (every 15 s)', BROWSER ? `${samplesOk}/${browserSamples.length}` : 'not run'],
        ]),
    );
    if (browserRoom) console.log(`browser console errors: ${browserProblems.length ? `\n  ${browserProblems.slice(0, 10).join('\n  ')}` : 'none'}`);
    if (totalUnanswered > 0 || leakedTotal > 0 || internalErrors > 0 || browserOk === false) exit = 1;
  } finally {
    await browserCall?.close().catch(() => undefined);
    await server.close();
  }
  return exit;
}

process.exitCode = await main();
