import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MemoryRoomStateStore } from '../../src/store/MemoryRoomStateStore.ts';
import { RedisRoomStateStore } from '../../src/store/RedisRoomStateStore.ts';
import { StoreUnavailableError, type RoomStateStore } from '../../src/store/RoomStateStore.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';

/** The same contract, run against every implementation. */
function contract(name: string, open: () => Promise<RoomStateStore>) {
  describe(`RoomStateStore contract: ${name}`, () => {
    let store: RoomStateStore;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
    });

    test('minted rooms are remembered with their password hash, others are not', async () => {
      assert.equal(await store.roomInfo('minted'), undefined);
      await store.registerRoom('minted');
      assert.deepEqual(await store.roomInfo('minted'), {});
      await store.registerRoom('locked', { passwordHash: 'scrypt$abc$def' });
      assert.deepEqual(await store.roomInfo('locked'), { passwordHash: 'scrypt$abc$def' });
      assert.equal(await store.roomInfo('other'), undefined);
    });

    test('ping answers', async () => {
      await store.ping();
    });
  });
}

contract('memory', async () => new MemoryRoomStateStore());

let redis: RedisHandle;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});
contract('redis (real redis-server)', async () => {
  const store = new RedisRoomStateStore({ url: redis.url, prefix: `test${Date.now()}:` });
  await store.connect();
  return store;
});

test('redis store fails fast while Redis is down and recovers when it returns', async (t) => {
  const store = new RedisRoomStateStore({ url: redis.url, prefix: 'outage:', commandTimeoutMs: 500 });
  t.after(() => store.close());
  await store.connect();
  await store.registerRoom('r');
  await redis.stop();
  const started = Date.now();
  await assert.rejects(store.roomInfo('r'), StoreUnavailableError);
  await assert.rejects(store.registerRoom('r2'), StoreUnavailableError);
  await assert.rejects(store.ping(), StoreUnavailableError);
  // Bounded by the 500 ms command timeout, not queued until Redis returns; slack for a busy machine.
  assert.ok(Date.now() - started < 8000, `failed fast instead of queueing (${Date.now() - started} ms)`);
  await redis.restart();
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await store.ping();
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.equal(await store.roomInfo('r'), undefined, 'a restarted Redis without persistence starts empty');
  await store.registerRoom('r', { passwordHash: 'scrypt$x$y' });
  assert.deepEqual(await store.roomInfo('r'), { passwordHash: 'scrypt$x$y' });
});
