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

    test('members are added, listed and removed per room', async () => {
      await store.addMember('r1', { userId: 'a', userName: 'Alice' });
      await store.addMember('r1', { userId: 'b', userName: 'Bob' });
      await store.addMember('r2', { userId: 'a', userName: 'Other Alice' });
      const sorted = async (room: string) => (await store.members(room)).sort((x, y) => x.userId.localeCompare(y.userId));
      assert.deepEqual(await sorted('r1'), [{ userId: 'a', userName: 'Alice' }, { userId: 'b', userName: 'Bob' }]);
      assert.deepEqual(await sorted('r2'), [{ userId: 'a', userName: 'Other Alice' }]);
      await store.removeMember('r1', 'a');
      assert.deepEqual(await sorted('r1'), [{ userId: 'b', userName: 'Bob' }]);
      await store.removeMember('r1', 'missing');
      await store.clearRoom('r1');
      assert.deepEqual(await store.members('r1'), []);
      assert.equal((await store.members('r2')).length, 1);
    });

    test('names with any characters round-trip; re-adding updates the name', async () => {
      const name = '<img src=x onerror=alert(1)> "quoted" 😀';
      await store.addMember('r3', { userId: 'x', userName: name });
      assert.deepEqual(await store.members('r3'), [{ userId: 'x', userName: name }]);
      await store.addMember('r3', { userId: 'x', userName: 'Renamed' });
      assert.deepEqual(await store.members('r3'), [{ userId: 'x', userName: 'Renamed' }]);
    });

    test('minted rooms are remembered with their password hash, others are not', async () => {
      assert.equal(await store.roomInfo('minted'), undefined);
      await store.registerRoom('minted');
      assert.deepEqual(await store.roomInfo('minted'), {});
      await store.registerRoom('locked', { passwordHash: 'scrypt$abc$def' });
      assert.deepEqual(await store.roomInfo('locked'), { passwordHash: 'scrypt$abc$def' });
      assert.equal(await store.roomInfo('other'), undefined);
    });

    test('replaceMembers makes the membership exactly the given list', async () => {
      await store.addMember('r4', { userId: 'ghost', userName: 'Ghost' });
      await store.replaceMembers('r4', [{ userId: 'a', userName: 'A' }]);
      assert.deepEqual(await store.members('r4'), [{ userId: 'a', userName: 'A' }]);
      await store.replaceMembers('r4', []);
      assert.deepEqual(await store.members('r4'), []);
    });

    test('unknown rooms are empty and ping answers', async () => {
      assert.deepEqual(await store.members('never'), []);
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
  await store.addMember('r', { userId: 'a', userName: 'A' });
  await redis.stop();
  const started = Date.now();
  await assert.rejects(store.addMember('r', { userId: 'b', userName: 'B' }), StoreUnavailableError);
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
  await store.addMember('r', { userId: 'c', userName: 'C' });
  assert.deepEqual(await store.members('r'), [{ userId: 'c', userName: 'C' }], 'a restarted Redis without persistence starts empty');
});
