#!/usr/bin/env node
// Container health check (the Dockerfile's HEALTHCHECK): GET /healthz from this Parley's own HTTP
// port, over HTTPS when TLS_CERT is set. Exit 0 on 200, else 1 (Docker's "healthy"/"unhealthy").
// Reads the same environment as the server: PORT (default 3000), HOST, TLS_CERT.
//
// Usage: node scripts/healthcheck.mjs [path]   (default /healthz; /readyz for readiness)
// HEALTHCHECK_TIMEOUT_MS (default 4000) bounds the request, below Docker's --timeout.
// Plain Node, no dependencies: it must work even when node_modules is broken.
import http from 'node:http';
import https from 'node:https';

const env = process.env;
const read = (name) => {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
};

const path = process.argv[2] ?? '/healthz';
const port = Number(read('PORT') ?? 3000);
const tls = read('TLS_CERT') !== undefined;
const timeoutMs = Number(read('HEALTHCHECK_TIMEOUT_MS') ?? 4000);
// Listening on every address: ask over loopback. Else ask where the server listens.
const listen = read('HOST') ?? '0.0.0.0';
const host = listen === '0.0.0.0' ? '127.0.0.1' : listen === '::' || listen === '[::]' ? '::1' : listen.replace(/^\[(.*)\]$/, '$1');

function done(ok, message) {
  (ok ? process.stdout : process.stderr).write(`healthcheck: ${message}\n`);
  process.exit(ok ? 0 : 1);
}

if (!Number.isInteger(port) || port < 1 || port > 65535) {
  done(false, `PORT=${JSON.stringify(env.PORT)} is not a fixed port number; cannot check`);
}

const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
const request = (tls ? https : http).request(
  {
    host,
    port,
    path,
    method: 'GET',
    agent: false,
    // The server's own certificate may be self-signed or issued for its public name, never for
    // 127.0.0.1: this checks that the process answers, not who it is.
    rejectUnauthorized: false,
    headers: { 'user-agent': 'parley-healthcheck' },
  },
  // The status line is the answer; the body does not matter.
  (res) => done(res.statusCode === 200, `${url} -> ${res.statusCode}`),
);
setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref();
request.on('error', (error) => done(false, `${url} -> ${error.message}`));
request.end();
