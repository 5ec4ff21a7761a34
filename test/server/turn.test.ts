// TURN: credentials minted from TURN_SECRET (the TURN REST API scheme coturn checks), the coturn
// configuration Parley writes (no open relay), and the TURN_* variables.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { mintRoom } from '../helpers/call.ts';
import { connectClient } from '../helpers/client.ts';
import { startTestServer } from '../helpers/server.ts';
import { checkTurnCredentials, mintTurnCredentials, turnCredential, turnUsername } from '../../src/auth/turnCredentials.ts';
import { ConfigError, isTurnUrl, loadConfig } from '../../src/config.ts';
import { chooseRelayIp, coturnConfig, defaultTurnUrls, mediaAddresses, type CoturnOptions } from '../../src/turn/coturnConfig.ts';

const SECRET = 'a-turn-secret-of-24-chars';
const settings = { secret: SECRET, urls: ['turn:203.0.113.7:443?transport=tcp', 'turns:turn.example.com:443?transport=tcp'], ttlSeconds: 3600 };

test('credentials: username "<expiry>:<userId>", credential base64 HMAC-SHA1 of it with the secret', () => {
  const now = Date.UTC(2030, 0, 1, 12, 0, 0);
  const server = mintTurnCredentials(settings, 'alice_01', now);
  const expiry = now / 1000 + 3600;
  assert.equal(server.username, `${expiry}:alice_01`);
  assert.equal(server.username, turnUsername('alice_01', expiry));
  // Computed independently, as coturn does with static-auth-secret.
  assert.equal(server.credential, crypto.createHmac('sha1', SECRET).update(`${expiry}:alice_01`).digest('base64'));
  assert.equal(server.credential, turnCredential(SECRET, server.username));
  assert.deepEqual(server.urls, settings.urls);
  assert.notEqual(server.urls, settings.urls, 'a copy: the settings cannot be changed through a reply');
});

test('credentials: valid until the expiry, for that username and secret only', () => {
  const now = Date.UTC(2030, 0, 1);
  const { username, credential } = mintTurnCredentials(settings, 'bob', now);
  assert.ok(checkTurnCredentials(SECRET, username, credential, now));
  assert.ok(checkTurnCredentials(SECRET, username, credential, now + 3599_000));
  assert.ok(!checkTurnCredentials(SECRET, username, credential, now + 3600_000), 'expired at the TTL');
  assert.ok(!checkTurnCredentials('another-secret-of-24-chars', username, credential, now), 'another secret');
  assert.ok(!checkTurnCredentials(SECRET, username.replace('bob', 'eve'), credential, now), 'another user');
  assert.ok(!checkTurnCredentials(SECRET, `${Number(username.split(':')[0]) + 86_400}:bob`, credential, now), 'a later expiry');
  assert.ok(!checkTurnCredentials(SECRET, 'bob', credential, now), 'no expiry');
});

test('credentials: each mint is renewed from the time it is made', () => {
  const first = mintTurnCredentials(settings, 'carol', Date.UTC(2030, 0, 1));
  const later = mintTurnCredentials(settings, 'carol', Date.UTC(2030, 0, 1, 2));
  assert.equal(Number(later.username.split(':')[0]) - Number(first.username.split(':')[0]), 7200);
  assert.notEqual(later.credential, first.credential);
});

const options: CoturnOptions = {
  secret: SECRET,
  port: 443,
  tls: { cert: '/certs/fullchain.pem', key: '/certs/privkey.pem' },
  relayIp: '172.17.0.2',
  allowedPeers: ['203.0.113.7'],
  quotas: { user: 12, total: 1200, maxBps: 1_250_000 },
  stateDir: '/tmp/parley-coturn-x',
};
const lines = (text: string) => text.trim().split('\n').filter((l) => !l.startsWith('#'));

test('coturn: shared-secret credentials only, TCP/UDP and TLS on one port', () => {
  const conf = lines(coturnConfig(options));
  for (const line of ['use-auth-secret', `static-auth-secret=${SECRET}`, 'listening-port=443', 'tls-listening-port=443', 'cert=/certs/fullchain.pem', 'pkey=/certs/privkey.pem', 'relay-ip=172.17.0.2', 'fingerprint', 'no-cli']) {
    assert.ok(conf.includes(line), `has ${line}`);
  }
  assert.ok(!conf.some((l) => /^(lt-cred-mech|user=|no-auth)/.test(l)), 'no other way to authenticate');
  const plain = lines(coturnConfig({ ...options, tls: undefined }));
  assert.ok(plain.includes('no-tls') && plain.includes('no-dtls'), 'without a certificate: no TLS');
  assert.ok(!plain.some((l) => l.startsWith('cert=')));
});

test('coturn: not an open relay — every peer denied but Parley\'s own media addresses, no TCP relays, no multicast', () => {
  const conf = lines(coturnConfig({ ...options, allowedPeers: ['203.0.113.7', '10.0.0.5'] }));
  assert.ok(conf.includes('denied-peer-ip=0.0.0.0-255.255.255.255'), 'all of IPv4 denied');
  assert.ok(conf.includes('denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), 'all of IPv6 denied');
  assert.deepEqual(conf.filter((l) => l.startsWith('allowed-peer-ip=')), ['allowed-peer-ip=203.0.113.7', 'allowed-peer-ip=10.0.0.5']);
  assert.ok(conf.includes('no-tcp-relay'));
  assert.ok(conf.includes('no-multicast-peers'));
  assert.ok(!conf.includes('allow-loopback-peers'), 'loopback peers stay refused');
  // Only when Parley itself is on loopback (a local trial) are loopback peers allowed, and only that address.
  const local = lines(coturnConfig({ ...options, allowedPeers: ['127.0.0.1'] }));
  assert.ok(local.includes('allow-loopback-peers'));
  assert.deepEqual(local.filter((l) => l.startsWith('allowed-peer-ip=')), ['allowed-peer-ip=127.0.0.1']);
  assert.throws(() => coturnConfig({ ...options, allowedPeers: [] }), /at least one allowed peer/);
});

test('coturn: per-user and total quotas, bandwidth per allocation', () => {
  const conf = lines(coturnConfig({ ...options, quotas: { user: 6, total: 300, maxBps: 500_000 } }));
  for (const line of ['user-quota=6', 'total-quota=300', 'max-bps=500000']) assert.ok(conf.includes(line), line);
});

test('coturn: its pid file and database in its private directory; no line breaks smuggled in', () => {
  const conf = lines(coturnConfig(options));
  assert.ok(conf.includes('pidfile=/tmp/parley-coturn-x/turnserver.pid'));
  assert.ok(conf.includes('userdb=/tmp/parley-coturn-x/turndb'));
  assert.throws(() => coturnConfig({ ...options, secret: 'x'.repeat(20) + '\nallowed-peer-ip=0.0.0.0-255.255.255.255' }), /line breaks/);
});

test('media addresses, relay address and default URLs', () => {
  assert.deepEqual(mediaAddresses('203.0.113.7', '0.0.0.0'), ['203.0.113.7']);
  assert.deepEqual(mediaAddresses('203.0.113.7', '10.0.0.5'), ['203.0.113.7', '10.0.0.5']);
  assert.deepEqual(mediaAddresses(undefined, '10.0.0.5', '10.0.0.5'), ['10.0.0.5']);
  const interfaces = { lo: [{ family: 'IPv4', internal: true, address: '127.0.0.1' }], eth0: [{ family: 'IPv4', internal: false, address: '172.17.0.2' }] } as never;
  assert.equal(chooseRelayIp(undefined, '0.0.0.0', interfaces), '172.17.0.2');
  assert.equal(chooseRelayIp(undefined, '10.0.0.5', interfaces), '10.0.0.5');
  assert.equal(chooseRelayIp('192.0.2.9', '10.0.0.5', interfaces), '192.0.2.9');
  assert.equal(chooseRelayIp(undefined, '0.0.0.0', {}), '127.0.0.1');
  assert.deepEqual(defaultTurnUrls('203.0.113.7', 443), ['turn:203.0.113.7:443?transport=udp', 'turn:203.0.113.7:443?transport=tcp']);
  assert.deepEqual(defaultTurnUrls('2001:db8::1', 3478), ['turn:[2001:db8::1]:3478?transport=udp', 'turn:[2001:db8::1]:3478?transport=tcp']);
});

test('TURN_* variables: off by default; on with TURN_SECRET', () => {
  assert.equal(loadConfig({}).turn, undefined);
  const turn = loadConfig({ TURN_SECRET: SECRET, TURN_URLS: 'turn:203.0.113.7:443?transport=tcp, turn:203.0.113.7:3478?transport=udp' }).turn;
  assert.deepEqual(turn, {
    secret: SECRET,
    urls: ['turn:203.0.113.7:443?transport=tcp', 'turn:203.0.113.7:3478?transport=udp'],
    ttlSeconds: 12 * 3600,
    server: 'coturn',
    port: 3478,
    tls: undefined,
    relayIp: undefined,
    quotas: { user: 12, total: 1200, maxBps: 1_250_000 },
  });
  const tuned = loadConfig({ TURN_SECRET: SECRET, TURN_PORT: '443', TURN_TTL_SECONDS: '7200', TURN_SERVER: 'external', TURN_URLS: 'turn:turn.example.com', TURN_USER_QUOTA: '4', TURN_TOTAL_QUOTA: '0', TURN_MAX_BPS: '0' }).turn!;
  assert.equal(tuned.port, 443);
  assert.equal(tuned.ttlSeconds, 7200);
  assert.equal(tuned.server, 'external');
  assert.deepEqual(tuned.quotas, { user: 4, total: 0, maxBps: 0 });
});

test('TURN_* variables: every problem reported, the secret never echoed', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.problems;
    }
    return [];
  };
  const bad = problems({ TURN_SECRET: 'short-secret', TURN_URLS: 'http://x, turn:ok.example:3478', TURN_TTL_SECONDS: '10', TURN_SERVER: 'docker', TURN_PORT: '0', TURN_TLS_CERT: '/nope.pem' });
  assert.ok(bad.some((p) => /^TURN_SECRET must be at least 16 characters/.test(p)), bad.join('\n'));
  assert.ok(!bad.some((p) => p.includes('short-secret')), 'the secret is not echoed');
  assert.ok(bad.some((p) => /TURN_URLS entry "http:\/\/x" must look like turn:/.test(p)));
  assert.ok(!bad.some((p) => p.includes('ok.example')), 'only the bad URL is named');
  assert.ok(bad.some((p) => /^TURN_TTL_SECONDS="10" must be/.test(p)));
  assert.ok(bad.some((p) => /^TURN_SERVER="docker" must be coturn .* or external/.test(p)));
  assert.ok(bad.some((p) => /^TURN_PORT="0" must be a port number/.test(p)));
  assert.ok(bad.some((p) => /TURN_TLS_CERT and TURN_TLS_KEY must be set together/.test(p)));
  assert.ok(bad.some((p) => /TURN_TLS_CERT="\/nope.pem": no such file/.test(p)));
  assert.deepEqual(problems({ TURN_URLS: 'turn:203.0.113.7:3478' }), ['TURN_URLS needs TURN_SECRET (the secret TURN credentials are signed with, e.g. openssl rand -hex 24)']);
  assert.deepEqual(problems({ TURN_SECRET: SECRET, TURN_SERVER: 'external' }), ['TURN_SERVER=external needs TURN_URLS: the turn:/turns: URLs of your TURN server']);
  assert.deepEqual(problems({ TURN_SECRET: SECRET, TURN_URLS: 'turns:turn.example.com:443?transport=tcp' }), [
    'TURN_URLS has turns: URLs, but coturn has no certificate for TLS: set TURN_TLS_CERT and TURN_TLS_KEY (or TLS_CERT and TLS_KEY)',
  ]);
});

test('TURN URLs as browsers take them', () => {
  for (const url of ['turn:203.0.113.7', 'turn:203.0.113.7:443?transport=tcp', 'turns:turn.example.com:443?transport=tcp', 'turn:[2001:db8::1]:3478?transport=udp']) assert.ok(isTurnUrl(url), url);
  for (const url of ['stun:203.0.113.7', 'turn:', 'turn:host:443?transport=tls', 'turn://host', 'https://turn.example.com', 'turn:host name']) assert.ok(!isTurnUrl(url), url);
});

test('createWebRtcTransport and restartIce replies carry the relay with credentials for this participant, only when TURN is configured', async (t) => {
  // TURN_SERVER=external: no coturn here, the replies are what is tested.
  const server = await startTestServer({ env: { TURN_SECRET: SECRET, TURN_SERVER: 'external', TURN_URLS: 'turn:203.0.113.7:443?transport=tcp', TURN_TTL_SECONDS: '3600' } });
  const plain = await startTestServer();
  t.after(() => Promise.all([server.close(), plain.close()]));
  for (const [parley, offered] of [[server, true], [plain, false]] as const) {
    const roomId = await mintRoom(parley, `turn-room-${offered}`);
    const client = await connectClient(parley.url);
    t.after(() => client.close());
    await client.ok('joinRoom', { roomId, userId: client.userId, userName: 'T' });
    const before = Math.floor(Date.now() / 1000);
    const transport = await client.ok('createWebRtcTransport', { roomId, producing: true, consuming: false });
    const restarted = await client.ok('restartIce', { transportId: transport.id });
    if (!offered) {
      assert.ok(!('iceServers' in transport), 'no relay offered: no iceServers at all');
      assert.ok(!('iceServers' in restarted));
      continue;
    }
    for (const reply of [transport, restarted]) {
      const [relay, ...more] = reply.iceServers!;
      assert.equal(more.length, 0);
      assert.deepEqual(relay!.urls, ['turn:203.0.113.7:443?transport=tcp']);
      const [expiry, userId] = relay!.username.split(':');
      assert.equal(userId, client.userId, 'the username names the participant');
      assert.ok(Number(expiry) >= before + 3600 && Number(expiry) <= Math.ceil(Date.now() / 1000) + 3600, 'valid for TURN_TTL_SECONDS from now');
      assert.ok(checkTurnCredentials(SECRET, relay!.username, relay!.credential), 'coturn would accept it');
    }
  }
});
