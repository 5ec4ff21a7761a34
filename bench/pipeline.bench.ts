/**
 * `node bench/pipeline.bench.ts`: what a socket's request scheduling costs a join. A client joins a
 * room that already has PIPELINE_PEERS producing peers, and times joinRoom + createWebRtcTransport×2
 * + getProducers (then consume of every producer) sent one after another (each awaits its reply) or
 * pipelined (all sent at once, as mediasoup-client based clients do). Median / p90 over PIPELINE_RUNS.
 * PIPELINE_REDIS=1: rate limits kept in a real redis-server and the client seen as remote (through a
 * trusted proxy), so every request also waits for Redis, as in a production deployment.
 */
import { joinWithTransports, produceCamera } from '../test/helpers/call.ts';
import { connectClient } from '../test/helpers/client.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { startTestServer } from '../test/helpers/server.ts';
import { env, percentile, table } from './lib.ts';

const RUNS = env('PIPELINE_RUNS', 40);
const PEERS = env('PIPELINE_PEERS', 6);

const redis = env('PIPELINE_REDIS', 0) ? await startRedis() : undefined;
const server = await startTestServer({
  workers: 1,
  redisUrl: redis?.url,
  env: redis ? { TRUST_PROXY: 'true', RATE_REQUESTS_PER_5S: '1000000', RATE_JOINS_PER_MINUTE: '1000000' } : {},
});
const remote = redis ? { extraHeaders: { 'x-forwarded-for': '198.51.100.77' } } : {};
const roomId = 'pipeline-room';
const others = [];
for (let i = 0; i < PEERS; i++) {
  const peer = await joinWithTransports(server, roomId, `Peer ${i}`);
  await produceCamera(peer);
  others.push(peer);
}
const { rtpCapabilities } = await others[0]!.ok('getRouterRtpCapabilities', { roomId });

type Mode = 'serial' | 'pipelined';
const samples: Record<`${Mode} ${'join' | 'join+consume'}`, number[]> = { 'serial join': [], 'pipelined join': [], 'serial join+consume': [], 'pipelined join+consume': [] };

async function once(mode: Mode, consume: boolean): Promise<number> {
  const c = await connectClient(server.url, undefined, remote);
  const started = performance.now();
  const steps = [
    () => c.ok('joinRoom', { roomId, userId: c.userId, userName: 'Timer' }),
    () => c.ok('createWebRtcTransport', { roomId, producing: true, consuming: false }),
    () => c.ok('createWebRtcTransport', { roomId, producing: false, consuming: true }),
    () => c.ok('getProducers', { roomId }),
  ];
  let producers: { producerId: string }[];
  if (mode === 'serial') {
    for (const step of steps.slice(0, 3)) await step();
    ({ producers } = (await steps[3]!()) as { producers: { producerId: string }[] });
    if (consume) for (const p of producers) await c.ok('consume', { producerId: p.producerId, rtpCapabilities });
  } else {
    const replies = await Promise.all(steps.map((step) => step()));
    ({ producers } = replies[3] as { producers: { producerId: string }[] });
    if (consume) await Promise.all(producers.map((p) => c.ok('consume', { producerId: p.producerId, rtpCapabilities })));
  }
  const elapsed = performance.now() - started;
  c.close();
  return elapsed;
}

for (let i = 0; i < RUNS; i++) {
  for (const consume of [false, true]) {
    for (const mode of ['serial', 'pipelined'] as const) samples[`${mode} ${consume ? 'join+consume' : 'join'}`].push(await once(mode, consume));
  }
}
const rows = Object.entries(samples).map(([name, sample]): [string, string] => [name, `${percentile(sample, 50).toFixed(1)} / ${percentile(sample, 90).toFixed(1)} ms`]);
console.log(table(`join into a room of ${PEERS} producing peers, ${RUNS} runs each (median / p90)`, rows));
for (const peer of others) peer.close();
await server.close();
await redis?.stop();
