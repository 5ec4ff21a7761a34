import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { joinWithTransports, produceCamera } from '../helpers/call.ts';
import { connectClient } from '../helpers/client.ts';
import { freePortRange } from '../helpers/ports.ts';
import { startTestServer } from '../helpers/server.ts';
import { makeTestCertificate } from '../helpers/tls.ts';
import { waitFor } from '../helpers/wait.ts';

/** Parses Prometheus text into "name{labels}" → value. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert.ok(match, `unparseable metrics line: ${line}`);
    values.set(match[1]!, Number(match[2]));
  }
  return values;
}

describe('metrics', () => {
  let server: Parley;
  before(async () => {
    // Its own listener (loopback), as operators run it: on the main port /metrics does not exist.
    server = await startTestServer({ env: { METRICS_PORT: '0' } });
  });
  after(async () => {
    await server.close();
  });

  test('/metrics parses and the counts move with the call', async () => {
    const scrape = async () => {
      const res = await fetch(`${server.metricsUrl}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /text\/plain/);
      return parseMetrics(await res.text());
    };
    const before = await scrape();
    assert.equal(before.get('parley_rooms'), 0);
    assert.equal(before.get('parley_workers'), 1);
    assert.ok(before.get('parley_worker_max_rss_bytes{worker="0"}')! > 0);
    assert.ok(before.has('parley_worker_cpu_seconds{worker="0",mode="user"}'));

    const a = await joinWithTransports(server, 'metrics-room');
    const b = await joinWithTransports(server, 'metrics-room');
    const producerId = await produceCamera(a);
    const { rtpCapabilities } = await b.ok('getRouterRtpCapabilities', { roomId: 'metrics-room' });
    await b.ok('consume', { producerId, rtpCapabilities });
    await b.request('resumeConsumer', { consumerId: 'not-mine' });
    const during = await scrape();
    assert.equal(during.get('parley_rooms'), 1);
    assert.equal(during.get('parley_peers'), 2);
    assert.equal(during.get('parley_transports'), 4);
    assert.equal(during.get('parley_producers'), 1);
    assert.equal(during.get('parley_consumers'), 1);
    assert.equal(during.get('parley_signaling_errors_total{event="resumeConsumer",kind="user"}'), 1);
    assert.ok(during.has('parley_bitrate_bps{direction="in"}'));

    a.close();
    b.close();
    await waitFor(async () => (await scrape()).get('parley_peers') === 0, { what: 'peers back to 0' });
  });
});

describe('TLS', () => {
  test('TLS_CERT/TLS_KEY serve pages and signaling over HTTPS', async () => {
    const { cert, key } = makeTestCertificate();
    const server = await startTestServer({ env: { TLS_CERT: cert, TLS_KEY: key } });
    try {
      assert.match(server.url, /^https:/);
      const body = await new Promise<string>((resolve, reject) => {
        https.get(`${server.url}/`, { rejectUnauthorized: false }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      assert.match(body, /Start a new call/);
      const client = await connectClient(server.url, undefined, { rejectUnauthorized: false });
      await server.store.registerRoom('tls-room');
      assert.ok('participants' in (await client.request('joinRoom', { roomId: 'tls-room', userId: client.userId, userName: 'Secure' })));
      client.close();
    } finally {
      await server.close();
    }
  });
});

describe('origins and proxies', () => {
  let server: Parley;
  before(async () => {
    server = await startTestServer({ env: { TRUST_PROXY: 'true', ALLOWED_ORIGINS: 'https://embed.example' } });
  });
  after(async () => {
    await server.close();
  });

  test('a socket from a foreign Origin is refused; same-origin, allow-listed and proxied ones are accepted', async () => {
    const host = new URL(server.url).host;
    const attempt = async (headers: Record<string, string>) => {
      try {
        const c = await connectClient(server.url, undefined, { extraHeaders: headers });
        c.close();
        return true;
      } catch {
        return false;
      }
    };
    assert.equal(await attempt({ origin: 'https://evil.example' }), false);
    assert.equal(await attempt({ origin: `http://${host}` }), true);
    assert.equal(await attempt({ origin: 'https://embed.example' }), true);
    assert.equal(await attempt({ origin: 'https://call.example.org', 'x-forwarded-host': 'call.example.org' }), true);
    assert.equal(await attempt({ origin: 'null' }), false);
  });

  test('invite links use X-Forwarded-Proto/Host when TRUST_PROXY is set', async () => {
    const res = await fetch(`${server.url}/rooms`, { method: 'POST', headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'call.example.org', 'hx-request': 'true' } });
    assert.equal(res.status, 201);
    assert.match(await res.text(), /https:\/\/call\.example\.org\/r\/[A-Za-z0-9_-]{16}/);
  });

  test('without TRUST_PROXY, forwarded headers are ignored', async () => {
    const plain = await startTestServer();
    try {
      const res = await fetch(`${plain.url}/rooms`, { method: 'POST', headers: { 'x-forwarded-host': 'evil.example', 'hx-request': 'true' } });
      const html = await res.text();
      assert.doesNotMatch(html, /evil\.example/);
      assert.ok(html.includes(`${plain.url}/r/`));
    } finally {
      await plain.close();
    }
  });
});

/** The child's exit code, or a failure (not a hang) when it has not exited in time. */
function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process still running after ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('process', () => {
  test('npm start equivalent: SIGTERM tells clients, closes workers and exits 0', async (t) => {
    const port = await freePortRange(1);
    const rtcPort = await freePortRange(1);
    const child = spawn(process.execPath, ['src/main.ts'], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', RTC_PORT: String(rtcPort), RTC_LISTEN_IP: '127.0.0.1', WORKERS: '1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const exited = exitOf(child, 30_000);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, { timeoutMs: 15_000, what: `server ready (${output})` });
    // Logs are JSON lines from a logger, not console.log.
    const listening = output.split('\n').filter(Boolean).map((line) => JSON.parse(line)).find((entry) => entry.msg === 'parley listening');
    assert.ok(listening, 'structured start-up log');
    assert.equal(listening.level, 30);

    const client = await connectClient(url);
    t.after(() => client.close());
    const minted = await fetch(`${url}/rooms`, { method: 'POST', headers: { 'hx-request': 'true' } });
    const roomId = /\/r\/([A-Za-z0-9_-]+)/.exec(await minted.text())![1]!;
    await client.ok('joinRoom', { roomId, userId: client.userId, userName: 'Leaving' });
    const workerPid = Number(/"pid":(\d+)[^}]*"msg":"mediasoup worker started"/.exec(output)?.[1]);
    assert.ok(workerPid > 0);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    await waitFor(() => client.received('roomClosed').length > 0, { what: 'the shutdown notice' });
    assert.deepEqual(client.received('roomClosed'), [{ roomId, reason: 'shutdown' }]);
    assert.throws(() => process.kill(workerPid, 0), 'the worker process is gone');
  });

  test('a bad environment fails fast with one clear message per problem', async (t) => {
    const child = spawn(process.execPath, ['src/main.ts'], { env: { ...process.env, PORT: 'abc', WORKERS: 'many' }, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const code = await exitOf(child, 30_000);
    assert.equal(code, 2);
    assert.match(stderr, /PORT="abc" must be a port number/);
    assert.match(stderr, /WORKERS="many" must be a whole number/);
  });
});
