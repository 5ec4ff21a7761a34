/**
 * Nodes sharing one (real) Redis: each registers with a heartbeat and its load, sees the others, and
 * a node that stops beating (killed) is found dead by exactly one of the living; one that stops
 * cleanly leaves at once; a second process under a live NODE_ID is refused.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { NodeRegistry, type NodeInfo } from '../../src/cluster/NodeRegistry.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

let redis: RedisHandle;
const connections: Redis[] = [];
const registries: NodeRegistry[] = [];

before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const registry of registries) registry.halt();
  for (const connection of connections) connection.disconnect();
  await redis.stop();
});

function node(nodeId: string, prefix: string, load = () => 0): NodeRegistry {
  const connection = new Redis(redis.url);
  connections.push(connection);
  const registry = new NodeRegistry({ redis: connection, nodeId, load, prefix, heartbeatMs: 100, expireMs: 600 });
  registries.push(registry);
  return registry;
}

test('nodes see each other with their load; a clean stop leaves at once', async () => {
  let load = 3;
  const a = node('a', 'clean:', () => load);
  const b = node('b', 'clean:');
  await Promise.all([a.start(), b.start()]);
  const seen = await b.liveNodes();
  assert.deepEqual(seen.map((n) => n.id), ['a', 'b']);
  assert.equal(seen[0]!.load, 3);
  load = 9;
  await waitFor(async () => (await b.liveNodes()).find((n) => n.id === 'a')?.load === 9, { timeoutMs: 5000, what: "a's new load to show" });
  await a.stop();
  assert.deepEqual((await b.liveNodes()).map((n) => n.id), ['b'], 'a is gone without waiting for the expiry');
});

test('a node that stops beating is found dead by exactly one live node, after the expiry', async () => {
  const [a, b, c] = [node('a', 'kill:'), node('b', 'kill:'), node('c', 'kill:')];
  await Promise.all([a.start(), b.start(), c.start()]);
  const downs: Array<{ by: string; info: NodeInfo }> = [];
  for (const registry of [b, c]) registry.on('nodeDown', (info) => downs.push({ by: registry.nodeId, info }));
  const killedAt = Date.now();
  a.halt(); // as if SIGKILLed: no goodbye
  await waitFor(() => downs.length > 0, { timeoutMs: 10_000, what: 'a to be found dead' });
  assert.ok(Date.now() - killedAt >= 500, 'not before the expiry');
  assert.equal(downs[0]!.info.id, 'a');
  assert.equal(downs[0]!.info.instance, a.instance);
  // A few more heartbeats of both survivors: nobody reports it twice.
  const beats = Date.now();
  await waitFor(() => Date.now() - beats > 500, { what: 'a few more heartbeats' });
  assert.equal(downs.length, 1, `reported once, by ${downs.map((d) => d.by).join(', ')}`);
  assert.deepEqual((await b.liveNodes()).map((n) => n.id), ['b', 'c']);
});

test('a second process under a live NODE_ID is refused; once that node stops beating, its successor takes the id over and reports it down', async () => {
  const first = node('same', 'dup:');
  await first.start();
  const second = node('same', 'dup:');
  await assert.rejects(second.start(), /NODE_ID same is already used by a live node/);
  first.halt(); // crashed
  const third = node('same', 'dup:');
  const predecessors: NodeInfo[] = [];
  third.on('nodeDown', (info) => predecessors.push(info));
  await third.start(); // waits the old entry out instead of failing
  assert.deepEqual(predecessors.map((p) => p.instance), [first.instance]);
  assert.deepEqual((await third.liveNodes()).map((n) => n.instance), [third.instance]);
});

test('Parley servers on one Redis register as nodes under their NODE_ID, with their load, and leave when they stop', async () => {
  const [one, two] = await Promise.all([startTestServer({ redisUrl: redis.url, env: { NODE_ID: 'node-one' } }), startTestServer({ redisUrl: redis.url, env: { NODE_ID: 'node-two' } })]);
  const observer = node('observer', 'parley:');
  try {
    await observer.start();
    const live = await observer.liveNodes();
    assert.deepEqual(live.map((n) => n.id), ['node-one', 'node-two', 'observer']);
    assert.ok(live.every((n) => n.load >= 0));
    assert.equal((await (await fetch(`${one.url}/readyz`)).json()).node, 'node-one');
    await one.close();
    assert.deepEqual((await observer.liveNodes()).map((n) => n.id), ['node-two', 'observer'], 'a clean stop leaves at once');
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

test('a server whose start fails late (METRICS_PORT taken) undoes what it started: its node leaves at once', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  const observer = node('watcher', 'parley:');
  try {
    await observer.start();
    await assert.rejects(startTestServer({ redisUrl: redis.url, env: { NODE_ID: 'doomed', METRICS_PORT: String(port) } }), /cannot listen on METRICS_PORT/);
    assert.ok(!(await observer.liveNodes()).some((n) => n.id === 'doomed'), 'the failed node is not left registered');
  } finally {
    observer.halt();
    blocker.close();
  }
});
