#!/usr/bin/env node
// Container health check (the Dockerfile's HEALTHCHECK): GET /healthz from this Parley's own HTTP
// port, over HTTPS when TLS_CERT is set. Exit 0 on 200, else 1 (Docker's "healthy"/"unhealthy").
// Reads the same environment as the server: PORT (default 3000), HOST, TLS_CERT.
//
// Where it asks:
// - Outside a container: where the server listens (HOST), over loopback when that is every address
//   (0.0.0.0 / ::).
// - In the image (PARLEY_IN_CONTAINER=1, set by the Dockerfile): over the container's own network
//   address, the one a published port (`-p 3000:3000`) forwards to. A Parley that listens only on
//   loopback inside a container (HOST=127.0.0.1) cannot be reached through any published port, so it
//   is reported unhealthy, with what to do instead. A container without a network address (--network
//   none) is asked over loopback.
// - HEALTHCHECK_HOST=<address> asks there, whatever the above (e.g. --network host with HOST=127.0.0.1).
//
// Usage: node scripts/healthcheck.mjs [path]   (default /healthz; /readyz for readiness)
// HEALTHCHECK_TIMEOUT_MS (default 4000) bounds the request, below Docker's --timeout.
// Plain Node, no dependencies: it must work even when node_modules is broken.
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';

const env = process.env;
const read = (name) => {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
};

const path = process.argv[2] ?? '/healthz';
const port = Number(read('PORT') ?? 3000);
const tls = read('TLS_CERT') !== undefined;
const timeoutMs = Number(read('HEALTHCHECK_TIMEOUT_MS') ?? 4000);
const inContainer = /^(1|true|yes)$/i.test(read('PARLEY_IN_CONTAINER') ?? '');
const listen = (read('HOST') ?? '0.0.0.0').replace(/^\[(.*)\]$/, '$1');
const everywhere = listen === '0.0.0.0' || listen === '::';
const loopback = listen === 'localhost' || listen === '::1' || /^127\./.test(listen.replace(/^::ffff:/i, ''));

/** The container's own address: where a published port's connections arrive (IPv4 first). */
function containerAddress() {
  const addresses = Object.values(os.networkInterfaces())
    .flat()
    .filter((info) => info && !info.internal && !(info.family === 'IPv6' && /^fe80:/i.test(info.address)));
  return (addresses.find((info) => info.family === 'IPv4') ?? (listen === '0.0.0.0' ? undefined : addresses[0]))?.address;
}

let host;
let hint = '';
if (read('HEALTHCHECK_HOST') !== undefined) {
  host = read('HEALTHCHECK_HOST').replace(/^\[(.*)\]$/, '$1');
} else if (inContainer && (everywhere || loopback)) {
  host = containerAddress() ?? (listen === '::' || listen === '::1' ? '::1' : '127.0.0.1');
  if (loopback) {
    hint =
      `. HOST=${listen} inside a container: published ports cannot reach Parley. Leave HOST unset and publish ` +
      `the port on the host's loopback instead (-p 127.0.0.1:${port}:${port}); with --network host, set HEALTHCHECK_HOST=${listen}`;
  }
} else {
  host = listen === '0.0.0.0' ? '127.0.0.1' : listen === '::' ? '::1' : listen;
}

function done(ok, message) {
  (ok ? process.stdout : process.stderr).write(`healthcheck: ${message}${ok ? '' : hint}\n`);
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
