import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { chooseAnnouncedAddress } from '../../src/media/announcedIp.ts';

test('defaults need no environment at all', () => {
  const config = loadConfig({});
  assert.equal(config.port, 3000);
  assert.equal(config.rtcPort, 40000);
  assert.equal(config.rtcListenIp, '0.0.0.0');
  assert.equal(config.redisUrl, undefined);
  assert.equal(config.logLevel, 'info');
  assert.ok(config.workers >= 1);
});

test('valid values are taken', () => {
  const config = loadConfig({ PORT: '8080', HOST: '127.0.0.1', RTC_PORT: '50000', RTC_LISTEN_IP: '10.0.0.2', ANNOUNCED_IP: '203.0.113.7', WORKERS: '3', REDIS_URL: 'redis://redis:6379', LOG_LEVEL: 'debug' });
  assert.deepEqual(
    { ...config, emptyRoomGraceMs: undefined, nodeId: undefined },
    { port: 8080, host: '127.0.0.1', rtcPort: 50000, rtcListenIp: '10.0.0.2', announcedIp: '203.0.113.7', workers: 3, redisUrl: 'redis://redis:6379', logLevel: 'debug', logFormat: 'auto', nodeId: undefined, adminToken: undefined, apiKey: undefined, webhook: undefined, emptyRoomGraceMs: undefined, tls: undefined, trustProxy: false, proxyProtocol: false, allowedOrigins: [], authSecret: undefined, authPublicKey: undefined, authAudience: undefined, authIssuer: undefined, authMaxTokenAgeSeconds: 86400,
      caps: { participantsPerRoom: 100, socketsPerAddress: 40, seatsPerAddress: 20 }, metrics: { port: undefined, host: '127.0.0.1', token: undefined },
      rateLimits: { joinsPerMinute: 30, connectionsPerMinute: 60, requestsPer5s: 300, roomsPerMinute: 20, probesPerMinute: 10 }, turn: undefined },
  );
});

test('every bad value is reported at once, each with a clear message', () => {
  try {
    loadConfig({ PORT: 'eighty', RTC_PORT: '70000', ANNOUNCED_IP: 'my.host', WORKERS: '0', REDIS_URL: 'localhost:6379', LOG_LEVEL: 'loud', TLS_CERT: '/nope.pem', TRUST_PROXY: 'maybe', ALLOWED_ORIGINS: 'example.com', AUTH_SECRET: 'short' });
    assert.fail('should have thrown');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 10);
    for (const name of ['PORT=', 'RTC_PORT=', 'ANNOUNCED_IP=', 'WORKERS=', 'REDIS_URL=', 'LOG_LEVEL=', 'TLS_CERT and TLS_KEY', 'TRUST_PROXY=', 'ALLOWED_ORIGINS', 'AUTH_SECRET']) {
      assert.ok(error.problems.some((p) => p.startsWith(name)), `${name} reported`);
    }
    assert.match(error.message, /IPv4 or IPv6 address/);
  }
});

test('announced address: explicit wins, public interface preferred, private one warned about', () => {
  const iface = (address: string, internal = false) => ({ address, internal, family: 'IPv4' as const, netmask: '', mac: '', cidr: null });
  assert.deepEqual(chooseAnnouncedAddress('198.51.100.1', '0.0.0.0'), { address: '198.51.100.1' });
  assert.deepEqual(chooseAnnouncedAddress(undefined, '127.0.0.1'), { address: undefined });
  assert.deepEqual(chooseAnnouncedAddress(undefined, '0.0.0.0', { lo: [iface('127.0.0.1', true)], eth0: [iface('10.1.2.3')], eth1: [iface('198.51.100.9')] }), { address: '198.51.100.9' });
  const privateOnly = chooseAnnouncedAddress(undefined, '0.0.0.0', { eth0: [iface('192.168.1.20')] });
  assert.equal(privateOnly.address, '192.168.1.20');
  assert.match(privateOnly.warning!, /ANNOUNCED_IP/);
});
