// scripts/healthcheck.mjs (the image's HEALTHCHECK) against tiny local HTTP and HTTPS servers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTestCertificate } from '../helpers/tls.ts';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/healthcheck.mjs');

interface Check {
  code: number;
  output: string;
  ms: number;
}

/** Runs the script with only the variables given (as the container would: PORT, HOST, TLS_CERT, PARLEY_IN_CONTAINER). */
function healthcheck(env: Record<string, string>, args: string[] = []): Promise<Check> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, output: stdout + stderr, ms: Date.now() - started });
    });
  });
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** Listens on a free port; closed (open connections included) when the tests end. */
async function listen(server: http.Server | https.Server | net.Server, host = '127.0.0.1'): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

const paths: string[] = [];
const status = (code: number): Handler => (req, res) => {
  paths.push(req.url ?? '');
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ status: code === 200 ? 'ok' : 'down' }));
};

describe('scripts/healthcheck.mjs', () => {
  const tls = makeTestCertificate();
  after(() => fs.rmSync(tls.dir, { recursive: true, force: true }));

  test('HTTP 200 → exit 0, asking GET /healthz', async () => {
    const port = await listen(http.createServer(status(200)));
    paths.length = 0;
    const result = await healthcheck({ PORT: String(port) });
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(paths, ['/healthz']);
  });

  test('HOST=0.0.0.0 (listening everywhere) is asked over 127.0.0.1', async () => {
    const port = await listen(http.createServer(status(200)));
    assert.equal((await healthcheck({ PORT: String(port), HOST: '0.0.0.0' })).code, 0);
  });

  test('HOST=:: is asked over ::1', async (t) => {
    const server = http.createServer(status(200));
    let port: number;
    try {
      port = await listen(server, '::1');
    } catch {
      return t.skip('no IPv6 loopback');
    }
    assert.equal((await healthcheck({ PORT: String(port), HOST: '::' })).code, 0);
  });

  test('HTTP 503 → exit 1', async () => {
    const port = await listen(http.createServer(status(503)));
    const result = await healthcheck({ PORT: String(port) });
    assert.equal(result.code, 1);
    assert.match(result.output, /503/);
  });

  test('connection refused → exit 1', async () => {
    // A port that was free a moment ago and is closed now.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = await healthcheck({ PORT: String(port) });
    assert.equal(result.code, 1);
    assert.match(result.output, /ECONNREFUSED/);
  });

  test('a server that never answers → exit 1 within HEALTHCHECK_TIMEOUT_MS', async () => {
    const port = await listen(net.createServer()); // accepts, says nothing
    const result = await healthcheck({ PORT: String(port), HEALTHCHECK_TIMEOUT_MS: '500' });
    assert.equal(result.code, 1);
    assert.match(result.output, /no answer within 500 ms/);
    assert.ok(result.ms < 5000, `gave up in time (${result.ms} ms)`);
  });

  test('an unusable PORT → exit 1', async () => {
    assert.equal((await healthcheck({ PORT: '0' })).code, 1);
    assert.equal((await healthcheck({ PORT: 'http' })).code, 1);
  });

  test('TLS_CERT set: HTTPS with a self-signed certificate, 200 → exit 0', async () => {
    const server = https.createServer({ cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) }, status(200));
    const port = await listen(server);
    paths.length = 0;
    const result = await healthcheck({ PORT: String(port), TLS_CERT: tls.cert, TLS_KEY: tls.key });
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /^healthcheck: https:\/\//);
    assert.deepEqual(paths, ['/healthz']);
  });

  test('TLS_CERT set: HTTPS 503 → exit 1', async () => {
    const server = https.createServer({ cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) }, status(503));
    const port = await listen(server);
    assert.equal((await healthcheck({ PORT: String(port), TLS_CERT: tls.cert, TLS_KEY: tls.key })).code, 1);
  });

  test('TLS_CERT set but the server speaks plain HTTP → exit 1', async () => {
    const port = await listen(http.createServer(status(200)));
    assert.equal((await healthcheck({ PORT: String(port), TLS_CERT: tls.cert, TLS_KEY: tls.key })).code, 1);
  });

  // In the image (PARLEY_IN_CONTAINER=1) the check asks over the machine's own network address, as
  // a published port reaches the container: a Parley listening on loopback only is unhealthy.
  const networkAddress = Object.values(os.networkInterfaces()).flat().find((info) => info && !info.internal && info.family === 'IPv4')?.address;
  const noAddress = networkAddress === undefined && 'no non-loopback IPv4 address on this machine';

  test('in a container, HOST unset: asked over the network address, not loopback', { skip: noAddress }, async () => {
    const port = await listen(http.createServer(status(200)), '0.0.0.0');
    const result = await healthcheck({ PORT: String(port), PARLEY_IN_CONTAINER: '1' });
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, new RegExp(`http://${networkAddress!.replaceAll('.', '\\.')}:${port}/healthz -> 200`));
  });

  test('in a container, HOST=127.0.0.1: unhealthy (published ports cannot reach it), saying what to do', { skip: noAddress }, async () => {
    const port = await listen(http.createServer(status(200)), '127.0.0.1');
    const result = await healthcheck({ PORT: String(port), HOST: '127.0.0.1', PARLEY_IN_CONTAINER: '1' });
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, /ECONNREFUSED/);
    assert.match(result.output, new RegExp(`Leave HOST unset .*-p 127\\.0\\.0\\.1:${port}:${port}`));
    // Outside a container the same setup is right (a reverse proxy on this machine): healthy.
    assert.equal((await healthcheck({ PORT: String(port), HOST: '127.0.0.1' })).code, 0);
    // --network host with HOST=127.0.0.1: HEALTHCHECK_HOST says where to ask.
    assert.equal((await healthcheck({ PORT: String(port), HOST: '127.0.0.1', PARLEY_IN_CONTAINER: '1', HEALTHCHECK_HOST: '127.0.0.1' })).code, 0);
  });

  test('an optional path argument: /readyz', async () => {
    const port = await listen(http.createServer(status(200)));
    paths.length = 0;
    assert.equal((await healthcheck({ PORT: String(port) }, ['/readyz'])).code, 0);
    assert.deepEqual(paths, ['/readyz']);
  });
});
