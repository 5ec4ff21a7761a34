/**
 * `npm run bench`: starts its own server (real mediasoup workers, loopback), measures, prints tables,
 * shuts down. About a minute with the defaults.
 *
 * Signaling: N bots (BENCH_BOTS, default 200) in rooms of BENCH_ROOM_SIZE (default 5), at most
 * BENCH_CONCURRENCY (default 20) joining at once: latency of connect, and of joinRoom +
 * createWebRtcTransport×2 + produce; then every bot consumes every other producer of its room
 * (consumers/s); then BENCH_ROOMS (default 300) fresh rooms are created by one join each (rooms/s).
 * Media: for each K in BENCH_CONSUMERS (default 10,50,100), K consumers of one VP8 PlainTransport
 * producer fed at BENCH_MEDIA_KBPS (default 1000) for BENCH_MEDIA_SECONDS (default 8): worker CPU
 * and packets forwarded/s. BENCH_WORKERS (default 1) media workers.
 */
import type { Parley } from '../src/app.ts';
import type { RtpCapabilities } from '../src/signaling/protocol.ts';
import { connectClient, type TestClient } from '../test/helpers/client.ts';
import { videoRtpParameters } from '../test/helpers/fixtures.ts';
import { startTestServer } from '../test/helpers/server.ts';
import { env, envList, mb, ms, percentile, pool, table } from './lib.ts';
import { mediaBench, type MediaResult } from './media.ts';

const BOTS = env('BENCH_BOTS', 200);
const ROOM_SIZE = Math.max(2, env('BENCH_ROOM_SIZE', 5));
const CONCURRENCY = Math.max(1, env('BENCH_CONCURRENCY', 20));
const ROOMS = env('BENCH_ROOMS', 300);
const WORKERS = Math.max(1, env('BENCH_WORKERS', 1));
const MEDIA_CONSUMERS = envList('BENCH_CONSUMERS', [10, 50, 100]);
const MEDIA_KBPS = env('BENCH_MEDIA_KBPS', 1000);
const MEDIA_SECONDS = env('BENCH_MEDIA_SECONDS', 8);

interface Bot {
  client: TestClient;
  roomId: string;
  recvTransportId: string;
  producerId: string;
}

const pct = (sample: number[]) => `${[50, 95, 99].map((p) => percentile(sample, p).toFixed(1)).join(' / ')} ms`;

async function joinBots(server: Parley): Promise<{ bots: Bot[]; rows: [string, string][] }> {
  const connectMs: number[] = [];
  const setupMs: number[] = [];
  const t0 = performance.now();
  const bots = await pool(Array.from({ length: BOTS }, (_, i) => i), CONCURRENCY, async (i): Promise<Bot> => {
    const roomId = `bench-${Math.floor(i / ROOM_SIZE)}`;
    await server.store.registerRoom(roomId); // rooms exist only once minted (as POST /rooms would)
    const start = performance.now();
    const client = await connectClient(server.url);
    const connected = performance.now();
    await client.ok('joinRoom', { roomId, userId: client.userId, userName: `Bot ${i}` });
    const [send, recv] = await Promise.all([
      client.ok('createWebRtcTransport', { roomId, producing: true, consuming: false }),
      client.ok('createWebRtcTransport', { roomId, producing: false, consuming: true }),
    ]);
    const { producerId } = await client.ok('produce', { transportId: send.id, kind: 'video', rtpParameters: videoRtpParameters() });
    setupMs.push(performance.now() - connected);
    connectMs.push(connected - start);
    return { client, roomId, recvTransportId: recv.id, producerId };
  });
  const wall = performance.now() - t0;
  return {
    bots,
    rows: [
      ['bots (room size, concurrency)', `${BOTS} (${ROOM_SIZE}, ${CONCURRENCY})`],
      ['socket connect p50/p95/p99', pct(connectMs)],
      ['join+2 transports+produce p50/p95/p99', pct(setupMs)],
      ['bots ready/s', (BOTS / (wall / 1000)).toFixed(1)],
    ],
  };
}

async function consumeAll(bots: Bot[], caps: RtpCapabilities): Promise<[string, string][]> {
  const jobs: { bot: Bot; producerId: string }[] = [];
  for (const bot of bots) {
    for (const other of bots) if (other !== bot && other.roomId === bot.roomId) jobs.push({ bot, producerId: other.producerId });
  }
  const latency: number[] = [];
  const t0 = performance.now();
  // Per bot, its consumes one after another (as a client does); bots in parallel.
  const byBot = new Map<Bot, string[]>();
  for (const job of jobs) byBot.set(job.bot, [...(byBot.get(job.bot) ?? []), job.producerId]);
  await pool([...byBot], CONCURRENCY, async ([bot, producerIds]) => {
    for (const producerId of producerIds) {
      const start = performance.now();
      const consumer = await bot.client.ok('consume', { producerId, rtpCapabilities: caps, transportId: bot.recvTransportId });
      await bot.client.ok('resumeConsumer', { consumerId: consumer.id });
      latency.push(performance.now() - start);
    }
  });
  const wall = performance.now() - t0;
  return [
    ['consumers created', String(jobs.length)],
    ['consume+resume p50/p95/p99', pct(latency)],
    ['consumers/s', (jobs.length / (wall / 1000)).toFixed(1)],
  ];
}

async function createRooms(server: Parley): Promise<[string, string][]> {
  const clients = await pool(Array.from({ length: Math.min(ROOMS, 50) }, (_, i) => i), CONCURRENCY, () => connectClient(server.url));
  const perClient = Math.ceil(ROOMS / clients.length);
  const t0 = performance.now();
  const latency: number[] = [];
  await Promise.all(
    clients.map(async (client, c) => {
      for (let k = 0; k < perClient && c * perClient + k < ROOMS; k++) {
        const roomId = `bench-new-${c}-${k}`;
        await server.store.registerRoom(roomId);
        const start = performance.now();
        await client.ok('joinRoom', { roomId, userId: client.userId, userName: 'Creator' });
        latency.push(performance.now() - start);
        await client.ok('leaveRoom', { roomId, userId: client.userId });
      }
    }),
  );
  const wall = performance.now() - t0;
  for (const client of clients) client.close();
  return [
    ['rooms created (first join + leave)', String(latency.length)],
    ['first join p50/p95/p99', pct(latency)],
    ['rooms/s', (latency.length / (wall / 1000)).toFixed(1)],
  ];
}

async function main(): Promise<void> {
  const started = performance.now();
  const server = await startTestServer({ workers: WORKERS, emptyRoomGraceMs: 500 });
  console.log(`parley bench: ${server.url}, ${WORKERS} worker(s), node ${process.version}`);
  try {
    const memBefore = process.memoryUsage();
    const { bots, rows: joinRows } = await joinBots(server);
    const { rtpCapabilities: caps } = await bots[0]!.client.ok('getRouterRtpCapabilities', { roomId: bots[0]!.roomId });
    const consumeRows = await consumeAll(bots, caps);
    const roomRows = await createRooms(server);
    const memLoaded = process.memoryUsage();
    let workerRss = 0;
    for (const w of server.pool.workers) workerRss += (await w.worker.getResourceUsage()).ru_maxrss * 1024;
    for (const bot of bots) bot.client.close();

    console.log(
      '\n' +
        table('Signaling', [
          ...joinRows,
          ...consumeRows,
          ...roomRows,
          ['node RSS before → with all bots', `${mb(memBefore.rss)} → ${mb(memLoaded.rss)}`],
          ['node heap before → with all bots', `${mb(memBefore.heapUsed)} → ${mb(memLoaded.heapUsed)}`],
          ['worker max RSS (sum)', mb(workerRss)],
        ]),
    );

    const media: MediaResult[] = [];
    for (const consumers of MEDIA_CONSUMERS) media.push(await mediaBench(server, { consumers, seconds: MEDIA_SECONDS, kbps: MEDIA_KBPS }));
    const header = ['consumers', 'sent pkt/s', 'sent kbps', 'fwd pkt/s', 'recv pkt/s', 'worker CPU', 'worker maxRSS'];
    const lines = media.map((m) => [
      String(m.consumers),
      m.sentPps.toFixed(0),
      m.sentKbps.toFixed(0),
      m.forwardedPps.toFixed(0),
      m.receivedPps.toFixed(0),
      `${m.workerCpuPercent.toFixed(1)} %`,
      `${m.workerMaxRssMb.toFixed(0)} MB`,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
    const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
    const rule = `+-${widths.map((w) => '-'.repeat(w)).join('-+-')}-+`;
    console.log(`\nMedia: one VP8 PlainTransport producer at ~${MEDIA_KBPS} kbps, K PlainTransport consumers, ${MEDIA_SECONDS} s each`);
    console.log([rule, fmt(header), rule, ...lines.map(fmt), rule].join('\n'));

    const memAfter = process.memoryUsage();
    console.log(`\nafter: node RSS ${mb(memAfter.rss)}, heap ${mb(memAfter.heapUsed)}; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await server.close();
  }
}

await main();
