import assert from 'node:assert/strict';
import { test } from 'node:test';
import { announcedReachability, describeCandidate, describePaths, describeRelay, diagnose, selectedLocalCandidate, selectedPath, type PathResult } from '../../src/client/connectivityDiagnosis.ts';
import type { IceCandidate } from '../../src/signaling/protocol.ts';

const candidate = (protocol: 'udp' | 'tcp', address: string, port: number) => ({ foundation: 'f', priority: 1, address, ip: address, protocol, port, type: 'host' }) as IceCandidate;
const announced = [candidate('udp', '203.0.113.7', 40000), candidate('tcp', '203.0.113.7', 40000)];

test('UDP: no advice needed', () => {
  const report = diagnose({ outcome: 'udp', selected: { protocol: 'udp', address: '203.0.113.7', port: 40000 }, announced, pageHost: 'call.example.com', secure: true });
  assert.equal(report.headline, 'UDP ok');
  assert.match(report.detail, /203\.0\.113\.7:40000/);
  assert.deepEqual(report.advice, []);
});

test('TCP only: says which UDP port to open', () => {
  const report = diagnose({ outcome: 'tcp', selected: { protocol: 'tcp', address: '203.0.113.7', port: 40000 }, announced, pageHost: 'call.example.com', secure: true });
  assert.equal(report.headline, 'TCP only');
  assert.match(report.advice[0]!, /UDP 40000 is blocked/);
});

test('nothing: a loopback announced address reached from elsewhere is named as the fault', () => {
  const local = [candidate('udp', '127.0.0.1', 40000)];
  const report = diagnose({ outcome: 'none', announced: local, pageHost: '198.51.100.4', secure: true });
  assert.equal(report.headline, 'Nothing got through');
  assert.match(report.advice[0]!, /announces 127\.0\.0\.1.*set ANNOUNCED_IP/);
  assert.match(report.advice.at(-1)!, /^If the address is right, open UDP and TCP ports/);
});

test('nothing, right address: only the firewall advice', () => {
  const report = diagnose({ outcome: 'none', announced, pageHost: '203.0.113.7', secure: true });
  assert.equal(report.advice.length, 1);
  assert.match(report.advice[0]!, /^Open UDP and TCP ports/);
});

test('plain HTTP off localhost adds the HTTPS advice', () => {
  const report = diagnose({ outcome: 'udp', announced, pageHost: 'call.example.com', secure: false });
  assert.match(report.advice.at(-1)!, /need HTTPS/);
});

test('reachability of announced addresses', () => {
  assert.equal(announcedReachability('203.0.113.7', '203.0.113.7').verdict, 'yes');
  assert.equal(announcedReachability('127.0.0.1', 'call.example.com').verdict, 'no');
  assert.equal(announcedReachability('10.0.0.5', '203.0.113.7').verdict, 'no');
  assert.equal(announcedReachability('10.0.0.5', 'call.example.com').verdict, 'unknown');
  assert.equal(describeCandidate({ protocol: 'udp', address: '2001:db8::1', port: 40000 }), 'UDP [2001:db8::1]:40000');
});

test('the selected pair is read from transport stats, or from a selected/nominated pair', () => {
  const viaTransport = new Map<string, unknown>([
    ['T', { id: 'T', type: 'transport', selectedCandidatePairId: 'P' }],
    ['P', { id: 'P', type: 'candidate-pair', remoteCandidateId: 'R' }],
    ['R', { id: 'R', type: 'remote-candidate', protocol: 'UDP', address: '203.0.113.7', port: 40000 }],
  ]);
  assert.deepEqual(selectedPath(viaTransport as unknown as RTCStatsReport), { protocol: 'udp', address: '203.0.113.7', port: 40000 });
  const nominated = new Map<string, unknown>([
    ['P', { id: 'P', type: 'candidate-pair', nominated: true, state: 'succeeded', remoteCandidateId: 'R' }],
    ['R', { id: 'R', type: 'remote-candidate', protocol: 'tcp', ip: '203.0.113.7', port: 40001 }],
  ]);
  assert.deepEqual(selectedPath(nominated as unknown as RTCStatsReport), { protocol: 'tcp', address: '203.0.113.7', port: 40001 });
  assert.equal(selectedPath(new Map() as unknown as RTCStatsReport), undefined);
});

const relayCandidate = { type: 'relay', relayProtocol: 'tcp', url: 'turn:203.0.113.7:443?transport=tcp' };
const tested = (udp: PathResult['state'], tcp: PathResult['state'], relay: PathResult['state']): PathResult[] => [
  { path: 'udp', state: udp },
  { path: 'tcp', state: tcp },
  { path: 'relay', state: relay, relay: relay === 'ok' ? relayCandidate : undefined },
];

test('relay only: says so, names how the relay was reached, and what a server operator may open', () => {
  const report = diagnose({
    outcome: 'relay',
    selected: { protocol: 'udp', address: '203.0.113.7', port: 40000 },
    relay: relayCandidate,
    paths: tested('blocked', 'blocked', 'ok'),
    relayUrls: [relayCandidate.url],
    announced,
    pageHost: 'call.example.com',
    secure: true,
  });
  assert.equal(report.headline, 'Relay only');
  assert.match(report.detail, /Direct UDP and TCP to the media server are blocked/);
  assert.match(report.detail, /relay server \(TCP via turn:203\.0\.113\.7:443\?transport=tcp\)/);
  assert.match(report.detail, /Calls will go through the relay/);
  assert.match(report.advice[0]!, /UDP and TCP ports RTC_PORT\.\.RTC_PORT\+WORKERS-1/);
});

test('nothing, with a relay offered: the relay is named as unreachable too, with what to open', () => {
  const report = diagnose({ outcome: 'none', paths: tested('blocked', 'blocked', 'blocked'), relayUrls: ['turn:203.0.113.7:443?transport=tcp'], announced, pageHost: '203.0.113.7', secure: true });
  assert.match(report.advice[0]!, /^Open UDP and TCP ports/);
  assert.match(report.advice[1]!, /relay server \(turn:203\.0\.113\.7:443\?transport=tcp\) could not be reached either: open TURN_PORT/);
  assert.match(report.advice[1]!, /TCP port 443/);
});

test('nothing, no relay on this server: the advice says how to set one up', () => {
  const report = diagnose({ outcome: 'none', paths: tested('blocked', 'blocked', 'not-offered'), announced, pageHost: '203.0.113.7', secure: true });
  assert.match(report.advice.at(-1)!, /set up the relay: TURN_SECRET/);
});

test('each path in words, and the relay candidate in use', () => {
  assert.deepEqual(describePaths(tested('ok', 'ok', 'not-offered')), ['UDP: works', 'TCP: works', 'Relay (TURN): not set up on this server']);
  assert.deepEqual(describePaths(tested('blocked', 'blocked', 'ok')), ['UDP: blocked', 'TCP: blocked', 'Relay (TURN): works (over TCP)']);
  assert.equal(describeRelay(undefined), 'the relay server');
  assert.equal(describeRelay({ type: 'relay', relayProtocol: 'tls', url: undefined }), 'the relay server (TLS)');
  const report = new Map<string, unknown>([
    ['T', { id: 'T', type: 'transport', selectedCandidatePairId: 'P' }],
    ['P', { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R' }],
    ['L', { id: 'L', type: 'local-candidate', candidateType: 'relay', relayProtocol: 'TLS', url: 'turns:turn.example.com:443?transport=tcp' }],
    ['R', { id: 'R', type: 'remote-candidate', protocol: 'udp', address: '203.0.113.7', port: 40000 }],
  ]);
  assert.deepEqual(selectedLocalCandidate(report as unknown as RTCStatsReport), { type: 'relay', relayProtocol: 'tls', url: 'turns:turn.example.com:443?transport=tcp' });
  assert.equal(selectedLocalCandidate(new Map() as unknown as RTCStatsReport), undefined);
});
