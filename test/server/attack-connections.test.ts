/**
 * Issue 13, item 4: raw engine.io/WebSocket connections are counted and capped per address, a
 * connection that never opens a Socket.IO session is dropped, and invalid traffic is charged before
 * it is answered; a socket that keeps sending it is dropped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { MAX_INVALID_PER_WINDOW } from '../../src/signaling/Connection.ts';
import { codeOf, connectClient, type TestClient } from '../helpers/client.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

/** A bare engine.io WebSocket (no Socket.IO session): resolves once open (the server's "0{…}" open packet arrived), or false if refused. */
function rawSocket(server: Parley): Promise<{ ws: WebSocket; opened: boolean; messages: string[] }> {
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const messages: string[] = [];
  return new Promise((resolve) => {
    ws.addEventListener('message', (e) => {
      messages.push(String(e.data));
      if (messages.length === 1) resolve({ ws, opened: String(e.data).startsWith('0{'), messages });
    });
    ws.addEventListener('error', () => resolve({ ws, opened: false, messages }));
    ws.addEventListener('close', () => resolve({ ws, opened: false, messages }));
  });
}

/** Sends anything at all and returns the ack. */
function raw(client: TestClient, event: string, ...args: unknown[]): Promise<unknown> {
  return (client.socket.timeout(5000) as unknown as { emitWithAck(e: string, ...a: unknown[]): Promise<unknown> }).emitWithAck(event, ...args);
}

test('raw WebSocket connections are capped per address at the upgrade; a closed one frees its slot', async (t) => {
  const server = await startTestServer({ exemptLoopback: false, env: { MAX_SOCKETS_PER_ADDRESS: '5' } });
  t.after(() => server.close());
  const sockets: Awaited<ReturnType<typeof rawSocket>>[] = [];
  for (let i = 0; i < 7; i++) sockets.push(await rawSocket(server));
  t.after(() => sockets.forEach((s) => s.ws.close()));
  assert.deepEqual(sockets.map((s) => s.opened), [true, true, true, true, true, false, false]);
  // A Socket.IO client from the same address is refused too: it is the same budget.
  await assert.rejects(connectClient(server.url));
  sockets[0]!.ws.close();
  await waitFor(async () => {
    const again = await rawSocket(server);
    sockets.push(again);
    return again.opened;
  }, { what: 'a slot freed by the closed socket' });
});

test('a connection that never opens its Socket.IO session is dropped after the connect timeout', async (t) => {
  const server = await startTestServer({ exemptLoopback: false, socketConnectTimeoutMs: 300 });
  t.after(() => server.close());
  const idle = await rawSocket(server);
  assert.ok(idle.opened);
  const closed = new Promise((resolve) => idle.ws.addEventListener('close', resolve));
  await closed; // the server ends it; without the timeout it would live on heartbeats alone
});

test('one engine.io connection carries one Socket.IO session at a time, even when two are asked for at once', async (t) => {
  const server = await startTestServer({ exemptLoopback: false });
  t.after(() => server.close());
  const conn = await rawSocket(server);
  t.after(() => conn.ws.close());
  let closed = false;
  conn.ws.addEventListener('close', () => (closed = true));
  conn.ws.send('40');
  conn.ws.send('40'); // before the first session is through its middleware
  await waitFor(() => conn.messages.some((m) => m.startsWith('44')) || closed, { what: 'the second session refused' });
  assert.equal(conn.messages.filter((m) => m.startsWith('40{')).length, 1, conn.messages.join(' | '));
  assert.ok(server.signaling.connections.size <= 1);
});

test('invalid requests are charged against the socket budget before they are answered', async (t) => {
  const server = await startTestServer({ exemptLoopback: false, env: { RATE_REQUESTS_PER_5S: '30' } });
  t.after(() => server.close());
  const c = await connectClient(server.url);
  t.after(() => c.close());
  const spent = await Promise.all(Array.from({ length: 30 }, () => c.request('getProducers', { roomId: 'nowhere' })));
  assert.ok(spent.every((r) => codeOf(r) === 'not_joined'));
  // A big invalid payload now costs the sender its budget, not the server a validation.
  const big = { roomId: 'x'.repeat(50_000) };
  assert.equal(codeOf(await raw(c, 'joinRoom', big)), 'rate_limited');
  assert.equal(codeOf(await raw(c, 'noSuchEvent', {})), 'rate_limited');
});

test(`a socket that keeps sending invalid frames is dropped (more than ${MAX_INVALID_PER_WINDOW} in 5 s)`, async (t) => {
  const server = await startTestServer({ exemptLoopback: false, env: { RATE_REQUESTS_PER_5S: '1000' } });
  t.after(() => server.close());
  const c = await connectClient(server.url);
  t.after(() => c.close());
  const bystander = await connectClient(server.url);
  t.after(() => bystander.close());
  const dropped = new Promise((resolve) => c.socket.once('disconnect', resolve));
  const answers = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => raw(c, i % 2 ? 'noSuchEvent' : 'joinRoom', { junk: 'x'.repeat(50_000) })));
  await dropped;
  const answered = answers.filter((a) => a.status === 'fulfilled').map((a) => codeOf((a as PromiseFulfilledResult<unknown>).value));
  assert.equal(answered.length, MAX_INVALID_PER_WINDOW);
  assert.ok(answered.every((code) => code === 'unknown_request' || code === 'invalid_payload'));
  assert.equal(bystander.socket.connected, true);
  assert.equal(codeOf(await bystander.request('getProducers', { roomId: 'r' })), 'not_joined');
});
