import assert from 'node:assert/strict';
import { seated } from '../helpers/client.ts';
import { after, before, test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { joinWithTransports, produceCamera } from '../helpers/call.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

let server: Parley;
before(async () => {
  server = await startTestServer({ workers: 2 });
});
after(async () => {
  await server.close();
});

test('a killed worker is replaced; its rooms close and their clients are told; other rooms live on', async () => {
  const doomed = await joinWithTransports(server, 'doomed-room', 'Doomed');
  const survivor = await joinWithTransports(server, 'survivor-room', 'Survivor');
  await produceCamera(doomed);
  const doomedWorker = server.registry.get('doomed-room')!.mediaWorker;
  const survivorWorker = server.registry.get('survivor-room')!.mediaWorker;
  assert.notEqual(doomedWorker, survivorWorker);
  const oldPid = doomedWorker.worker.pid;

  process.kill(oldPid, 'SIGKILL');

  await waitFor(() => doomed.received('roomClosed').length === 1, { what: 'roomClosed', timeoutMs: 10_000 });
  assert.deepEqual(doomed.received('roomClosed')[0], { roomId: 'doomed-room', reason: 'worker-died' });
  assert.equal(server.registry.get('doomed-room'), undefined);
  await waitFor(() => server.pool.healthy, { what: 'replacement worker', timeoutMs: 10_000 });
  const replacement = server.pool.workers.find((w) => w.index === doomedWorker.index)!;
  assert.notEqual(replacement.worker.pid, oldPid);
  assert.equal(replacement.port, doomedWorker.port, 'same media port');
  assert.equal(doomed.socket.connected, true, 'the process kept serving the socket');

  // The survivor's room is untouched.
  assert.equal(server.registry.get('survivor-room')!.router.closed, false);
  assert.equal(survivor.received('roomClosed').length, 0);
  assert.ok(await produceCamera(survivor));

  // The told client rejoins on the same socket and gets a fresh room.
  const rejoined = await doomed.ok('joinRoom', { roomId: 'doomed-room', userId: doomed.userId, userName: 'Doomed' });
  assert.deepEqual(seated(rejoined).participants, []);
  const transport = await doomed.ok('createWebRtcTransport', { roomId: 'doomed-room', producing: true, consuming: false });
  assert.ok(transport.id);
  const res = await fetch(`${server.url}/readyz`);
  assert.equal(res.status, 200);
  doomed.close();
  survivor.close();
});
