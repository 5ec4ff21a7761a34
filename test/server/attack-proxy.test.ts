/**
 * Issue 13, item 1: limits must hold behind proxies. Each test is the attack that used to work.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { createLogger } from '../../src/log.ts';
import { ClientResolver, WARN_HEADERS_MISSING, WARN_HEADERS_UNTRUSTED } from '../../src/net/clientResolver.ts';
import { parseProxyHeader } from '../../src/net/proxyProtocol.ts';
import { mintRoom } from '../helpers/call.ts';
import { codeOf, connectClient } from '../helpers/client.ts';
import { startTestServer } from '../helpers/server.ts';

/** A logger whose lines land in `lines` (JSON objects). */
function capturingLogger(lines: { msg: string }[]) {
  return pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
}

/** One raw HTTP/1.1 request over TCP, optionally preceded by a PROXY header; resolves with the status (0: closed without answer). */
function rawRequest(url: string, request: string, header: Buffer | string = ''): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.end(Buffer.concat([Buffer.from(header), Buffer.from(request)])));
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text }));
  });
}
const MINT = 'POST /rooms HTTP/1.1\r\nHost: call.example\r\nhx-request: true\r\ncontent-length: 0\r\nconnection: close\r\n\r\n';

test('behind a proxy on the same machine (no forwarding header), the limits still hold: the loopback exemption is off in production', async (t) => {
  // exemptLoopback false: what startParley does unless a test opts in (main.ts never does).
  const server = await startTestServer({ exemptLoopback: false, env: { RATE_JOINS_PER_MINUTE: '30', RATE_ROOMS_PER_MINUTE: '20' } });
  t.after(() => server.close());
  const roomId = await mintRoom(server, 'behind-stunnel');
  const c = await connectClient(server.url);
  t.after(() => c.close());
  let joined = 0;
  for (let i = 0; i < 40; i++) {
    const reply = await c.request('joinRoom', { roomId, userId: c.userId, userName: 'Loop' });
    if (codeOf(reply) === 'rate_limited') continue;
    assert.ok('participants' in reply, JSON.stringify(reply));
    joined++;
    await c.ok('leaveRoom', { roomId, userId: c.userId });
  }
  assert.equal(joined, 30, 'RATE_JOINS_PER_MINUTE holds for a loopback client');
  const statuses = [];
  for (let i = 0; i < 25; i++) statuses.push((await fetch(`${server.url}/rooms`, { method: 'POST', headers: { 'hx-request': 'true' } })).status);
  assert.equal(statuses.filter((s) => s === 201).length, 20, 'RATE_ROOMS_PER_MINUTE holds for a loopback client');
});

test('forwarding headers while TRUST_PROXY is unset, and a proxy without them while it is set, are each warned about once', async (t) => {
  const lines: { msg: string }[] = [];
  const plain = await startTestServer({ log: capturingLogger(lines) });
  t.after(() => plain.close());
  await fetch(`${plain.url}/healthz`, { headers: { 'x-forwarded-for': '198.51.100.1' } }); // a proxy's health check: quiet
  assert.equal(lines.length, 0, "a health check says nothing about forwarding");
  const headerSets: Record<string, string>[] = [{ 'x-forwarded-for': '198.51.100.1' }, { forwarded: 'for=198.51.100.2' }, { 'x-forwarded-for': '198.51.100.3' }];
  for (const headers of headerSets) await fetch(`${plain.url}/`, { headers });
  assert.deepEqual(lines.map((l) => l.msg), [WARN_HEADERS_UNTRUSTED]);

  const proxied = await startTestServer({ log: capturingLogger(lines), env: { TRUST_PROXY: 'true' } });
  t.after(() => proxied.close());
  await fetch(`${proxied.url}/`, { headers: { 'x-forwarded-for': '198.51.100.1' } });
  await fetch(`${proxied.url}/`);
  await fetch(`${proxied.url}/`);
  assert.deepEqual(lines.map((l) => l.msg), [WARN_HEADERS_UNTRUSTED, WARN_HEADERS_MISSING]);
});

test('the client address is the right-most one no trusted proxy vouches for: hop counts and proxy lists', () => {
  const log = createLogger('silent');
  const resolve = (trustProxy: false | number | string[], peer: string, xff?: string) =>
    new ClientResolver({ trustProxy, proxyProtocol: false, exemptLoopback: false, log }).resolve({ url: '/', headers: xff ? { 'x-forwarded-for': xff } : {}, socket: { remoteAddress: peer } } as unknown as IncomingMessage).ip;
  // A client rotating its own header in front of a CDN and nginx: only the hops they wrote count.
  const chain = (spoof: string) => `${spoof}, 198.51.100.77, 10.0.0.5`;
  for (const spoof of ['1.1.1.1', '2.2.2.2']) {
    assert.equal(resolve(2, '127.0.0.1', chain(spoof)), '198.51.100.77');
    assert.equal(resolve(['127.0.0.1', '10.0.0.0/8'], '127.0.0.1', chain(spoof)), '198.51.100.77');
    assert.equal(resolve(['loopback', 'uniquelocal'], '127.0.0.1', chain(spoof)), '198.51.100.77');
  }
  assert.equal(resolve(1, '127.0.0.1', chain('1.1.1.1')), '10.0.0.5', 'one hop: the proxy itself was the last writer');
  // A peer that is not in the list is the client, whatever it writes.
  assert.equal(resolve(['10.0.0.0/8'], '203.0.113.9', '198.51.100.1'), '203.0.113.9');
  assert.equal(resolve(false, '127.0.0.1', '198.51.100.1'), '127.0.0.1');
  // Garbage in the hop that would be the client does not buy a fresh budget: the proxy answers for it.
  assert.equal(resolve(1, '10.0.0.5', 'not-an-address'), '10.0.0.5');
});

test('PROXY protocol v1 and v2: the budget is the client the TCP proxy names, whatever headers the client writes', async (t) => {
  const server = await startTestServer({ exemptLoopback: false, env: { PROXY_PROTOCOL: 'true', TRUST_PROXY: '127.0.0.1', RATE_ROOMS_PER_MINUTE: '2' } });
  t.after(() => server.close());
  const v1 = (source: string) => `PROXY TCP4 ${source} 127.0.0.1 40000 443\r\n`;
  const spoofing = (i: number) => MINT.replace('\r\n\r\n', `\r\nx-forwarded-for: 192.0.2.${i}\r\n\r\n`);
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await rawRequest(server.url, spoofing(i), v1('203.0.113.7'))).status);
  assert.deepEqual(statuses, [201, 201, 429, 429], 'a rotating X-Forwarded-For is ignored');
  // v2 (binary), IPv4, with the TLS TLV: another client, and its invite link is https.
  const v2 = (source: number[], tls: boolean) => {
    const tlv = tls ? Buffer.from([0x20, 0x00, 0x05, 0x01, 0, 0, 0, 0]) : Buffer.alloc(0);
    const head = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0, 12 + tlv.length]);
    return Buffer.concat([head, Buffer.from(source), Buffer.from([127, 0, 0, 1]), Buffer.from([0x9c, 0x40, 0x01, 0xbb]), tlv]);
  };
  const other = await rawRequest(server.url, MINT, v2([198, 51, 100, 8], true));
  assert.equal(other.status, 201);
  assert.match(other.body, /https:\/\/call\.example\/r\//);
  assert.equal((await rawRequest(server.url, MINT, v2([198, 51, 100, 8], false))).status, 201);
  assert.equal((await rawRequest(server.url, MINT, v2([198, 51, 100, 8], false))).status, 429);
  // From the trusted proxy without a header: refused (closed), never served as the proxy's own address.
  assert.equal((await rawRequest(server.url, MINT)).status, 0);
  // The parser itself: a client cannot smuggle a header through a malformed one.
  assert.ok('error' in parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2 extra\r\n')));
  assert.ok('error' in parseProxyHeader(Buffer.from('GET / HTTP/1.1\r\n')));
  assert.deepEqual(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 ::1 1 2\r\nrest')), { done: true, info: { source: '2001:db8::1', tls: false }, length: 32 });
});
