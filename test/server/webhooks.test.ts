import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { startParley, type Parley } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { signWebhook, verifyWebhook, Webhooks, type WebhookEvent } from '../../src/webhooks/Webhooks.ts';
import { mintRoom } from '../helpers/call.ts';
import { connectClient } from '../helpers/client.ts';
import { freePortRange } from '../helpers/ports.ts';
import { waitFor } from '../helpers/wait.ts';

const SECRET = 'webhook-secret-0123456789';

interface Received {
  body: string;
  event: WebhookEvent;
  timestamp: string | undefined;
  signature: string | undefined;
}

/** A local endpoint that records deliveries; `fail(n)` makes the next n answer 500. */
async function receiver() {
  const received: Received[] = [];
  let failures = 0;
  let attempts = 0;
  let hang = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts++;
      if (hang) return; // never answers
      if (failures > 0) {
        failures--;
        res.writeHead(500).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ body, event: JSON.parse(body), timestamp: req.headers['x-parley-timestamp'] as string, signature: req.headers['x-parley-signature'] as string });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    fail: (n: number) => (failures = n),
    hangForever: () => (hang = true),
    attempts: () => attempts,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const quietLog = pino({ level: 'silent' });

describe('webhook signatures', () => {
  test('verifyWebhook accepts the signed body and refuses tampering, other secrets and stale timestamps', () => {
    const body = JSON.stringify({ event: 'room_started', roomId: 'r1', at: new Date().toISOString(), id: 'x' });
    const now = Date.now();
    const ts = String(Math.floor(now / 1000));
    const signature = signWebhook(SECRET, ts, body);
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    assert.equal(verifyWebhook(SECRET, { timestamp: ts, signature }, body, 300, now), true);
    assert.equal(verifyWebhook(SECRET, { timestamp: ts, signature }, body.replace('r1', 'r2'), 300, now), false);
    assert.equal(verifyWebhook('another-secret-0123456', { timestamp: ts, signature }, body, 300, now), false);
    assert.equal(verifyWebhook(SECRET, { timestamp: ts, signature }, body, 300, now + 301_000), false, 'a replay after 5 minutes');
    assert.equal(verifyWebhook(SECRET, { timestamp: String(Number(ts) + 1), signature }, body, 300, now), false);
    assert.equal(verifyWebhook(SECRET, { timestamp: undefined, signature }, body), false);
  });
});

describe('webhook delivery', () => {
  test('retried with back-off until delivered, in order', async () => {
    const hook = await receiver();
    const webhooks = new Webhooks({ url: hook.url, secret: SECRET, log: quietLog, baseDelayMs: 20, maxAttempts: 5 });
    try {
      hook.fail(2);
      webhooks.enqueue('room_started', 'r1');
      webhooks.enqueue('participant_joined', 'r1', 'u1');
      // The receiver sees the second request before the sender has read its answer: wait for both sides.
      await waitFor(() => hook.received.length === 2 && webhooks.stats.delivered === 2, { what: 'both deliveries, answered' });
      assert.deepEqual(hook.received.map((r) => r.event.event), ['room_started', 'participant_joined']);
      assert.equal(hook.attempts(), 4);
      assert.deepEqual({ delivered: webhooks.stats.delivered, retried: webhooks.stats.retried, failed: webhooks.stats.failed }, { delivered: 2, retried: 2, failed: 0 });
    } finally {
      await webhooks.close(0);
      await hook.close();
    }
  });

  test('gives up after maxAttempts and goes on with the next event', async () => {
    const hook = await receiver();
    const webhooks = new Webhooks({ url: hook.url, secret: SECRET, log: quietLog, baseDelayMs: 5, maxAttempts: 3 });
    try {
      hook.fail(3);
      webhooks.enqueue('room_started', 'r1');
      webhooks.enqueue('room_finished', 'r1');
      await waitFor(() => hook.received.length === 1, { what: 'the second event' });
      assert.equal(hook.received[0]!.event.event, 'room_finished');
      assert.equal(webhooks.stats.failed, 1);
    } finally {
      await webhooks.close(0);
      await hook.close();
    }
  });

  test('a stuck endpoint never blocks: enqueue returns at once and the queue is bounded', async () => {
    const hook = await receiver();
    hook.hangForever();
    const webhooks = new Webhooks({ url: hook.url, secret: SECRET, log: quietLog, maxQueue: 3, timeoutMs: 60_000 });
    try {
      const started = performance.now();
      for (let i = 0; i < 10; i++) webhooks.enqueue('participant_joined', 'r1', `u${i}`);
      assert.ok(performance.now() - started < 50);
      assert.equal(webhooks.pending, 3);
      assert.equal(webhooks.stats.dropped, 7);
    } finally {
      await webhooks.close(0);
      await hook.close();
    }
  });
});

describe('webhooks and presence logs from a real server', () => {
  let server: Parley;
  let hook: Awaited<ReturnType<typeof receiver>>;
  const lines: Record<string, any>[] = [];

  before(async () => {
    hook = await receiver();
    const rtcPort = await freePortRange(1);
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      RTC_PORT: String(rtcPort),
      RTC_LISTEN_IP: '127.0.0.1',
      WORKERS: '1',
      LOG_LEVEL: 'info',
      EMPTY_ROOM_GRACE_MS: '200',
      RATE_JOINS_PER_MINUTE: '0',
      RATE_CONNECTIONS_PER_MINUTE: '0',
      RATE_REQUESTS_PER_5S: '0',
      WEBHOOK_URL: hook.url,
      WEBHOOK_SECRET: SECRET,
      NODE_ID: 'node-test-1',
    });
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    server = await startParley(config, pino({ level: 'info' }, sink));
  });
  after(async () => {
    await server.close();
    await hook.close();
  });

  test('room_started, joins, leaves and room_finished arrive signed and in order; one log line per join and leave', async () => {
    const roomId = await mintRoom(server, 'hooked-room');
    hook.fail(1); // the first delivery is retried (after about a second)
    const a = await connectClient(server.url);
    const b = await connectClient(server.url);
    await a.ok('joinRoom', { roomId, userId: a.userId, userName: 'Ann' });
    await b.ok('joinRoom', { roomId, userId: b.userId, userName: 'Bob' });
    await b.ok('leaveRoom', { roomId, userId: b.userId });
    a.close();
    b.close();
    await waitFor(() => hook.received.length >= 6, { what: 'six webhook deliveries' });

    const events = hook.received.map((r) => r.event);
    assert.deepEqual(
      events.map((e) => [e.event, e.userId]),
      [
        ['room_started', undefined],
        ['participant_joined', a.userId],
        ['participant_joined', b.userId],
        ['participant_left', b.userId],
        ['participant_left', a.userId],
        ['room_finished', undefined],
      ],
    );
    for (const r of hook.received) {
      assert.equal(r.event.roomId, roomId);
      assert.ok(!Number.isNaN(Date.parse(r.event.at)));
      assert.equal(verifyWebhook(SECRET, { timestamp: r.timestamp, signature: r.signature }, r.body), true, 'signature checks out');
    }
    assert.equal(new Set(events.map((e) => e.id)).size, 6, 'every event has its own id');
    const times = events.map((e) => Date.parse(e.at));
    assert.deepEqual([...times].sort((x, y) => x - y), times);

    const presence = lines.filter((l) => l.msg === 'participant joined' || l.msg === 'participant left');
    assert.deepEqual(
      presence.map((l) => [l.msg, l.userId]),
      [
        ['participant joined', a.userId],
        ['participant joined', b.userId],
        ['participant left', b.userId],
        ['participant left', a.userId],
      ],
    );
    for (const l of presence) {
      assert.equal(l.level, 30, 'info');
      assert.equal(l.roomId, roomId);
      assert.equal(l.node, 'node-test-1');
    }
    for (const l of presence.filter((l) => l.msg === 'participant left')) assert.ok(Number.isInteger(l.durationMs) && l.durationMs >= 0);
    assert.equal(lines.filter((l) => l.msg === 'peer joined' || l.msg === 'peer left').length, 0, 'no second line per join/leave at info');
  });
});
