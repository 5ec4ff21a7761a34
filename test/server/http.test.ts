import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

let redis: RedisHandle;
let server: Parley;
before(async () => {
  redis = await startRedis();
  server = await startTestServer({ redisUrl: redis.url });
});
after(async () => {
  await server.close();
  await redis.stop();
});

test('/healthz answers while alive', async () => {
  const res = await fetch(`${server.url}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('/readyz is 200 with workers and Redis up, 503 when Redis is down, 200 again after', async () => {
  const ready = await fetch(`${server.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ready: true, workers: true, store: true, node: server.config.nodeId });
  await redis.stop();
  const down = await fetch(`${server.url}/readyz`);
  assert.equal(down.status, 503);
  assert.deepEqual(await down.json(), { ready: false, workers: true, store: false, node: server.config.nodeId });
  await redis.restart();
  await waitFor(async () => (await fetch(`${server.url}/readyz`)).status === 200, { timeoutMs: 10_000, what: 'ready again' });
});
