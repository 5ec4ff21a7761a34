/**
 * Property-based fuzzing of every client→server signaling event (REQUEST_NAMES) against a real
 * worker, before joinRoom and after a valid join with transports (so the handlers are reached).
 *
 * For every generated payload: the ack arrives in time and is either a result of the right shape or
 * exactly {error: string, code}; the socket stays up (unless the frame was over the 64 KB limit, then only
 * that socket goes); no request the schema refuses succeeds; no client garbage turns into an
 * internal server error. At the end: a bystander in another room is served, Object.prototype is
 * untouched, the mediasoup workers never died, and what the worker holds matches the rooms' Maps.
 *
 * Payloads: templates of valid requests with one field mutated (deleted, replaced by a hostile value,
 * a sibling added, wrapped), and plain garbage (wrong types, huge strings, deep nesting, arrays,
 * `__proto__`/`constructor`/`prototype` keys from JSON.parse, NaN/Infinity/-0, binary). Object ids
 * are symbolic ("$send", "$theirProducer", ...) and resolved at send time to live ids.
 *
 * FUZZ_RUNS scales the number of batches; FUZZ_SEED replays a run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { Encoder, PacketType } from 'socket.io-parser';
import { z } from 'zod';
import type { Parley } from '../../src/app.ts';
import { ERROR_CODES, REQUEST_NAMES, type RequestName, type RtpCapabilities } from '../../src/signaling/protocol.ts';
import { requestSchemas } from '../../src/signaling/schemas.ts';
import { MAX_FRAME_BYTES } from '../../src/signaling/SignalingServer.ts';
import { joinWithTransports, workerCounts } from '../helpers/call.ts';
import { connectClient, type TestClient } from '../helpers/client.ts';
import { audioRtpParameters, FAKE_DTLS, videoRtpParameters } from '../helpers/fixtures.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

const BATCH = 25;
const RUNS_SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
/** Batches per event and phase: BATCH payloads each, sent in parallel. */
const BATCHES = Math.max(1, Math.round(10 * RUNS_SCALE));
const ACK_TIMEOUT_MS = 15_000;
/** Frames this far under/over the limit are certainly accepted/refused (packet framing adds a few bytes). */
const FRAME_SLACK = 256;

let server: Parley;
let bystander: TestClient;
const protoNamesBefore = snapshotPrototypes();
/** Client payloads that the server answered as its own failure (code internal): first one per event. */
const internalErrors = new Map<RequestName, unknown>();
const stats = { sent: 0, ok: 0, error: 0, oversize: 0, validSchema: 0, byEvent: new Map<string, { ok: number; error: number; ms: number }>() };

before(async () => {
  server = await startTestServer({ emptyRoomGraceMs: 50 });
  // Rooms exist only once minted: every fixed id the fuzzer names.
  for (const roomId of ['fuzz-bystander', 'fuzz-pre', 'fuzz-room', 'fuzz-other']) await server.store.registerRoom(roomId);
  bystander = await connectClient(server.url);
  await bystander.ok('joinRoom', { roomId: 'fuzz-bystander', userId: bystander.userId, userName: 'Bystander' });
});
after(async () => {
  bystander?.close();
  await server?.close();
  const lines = [...stats.byEvent].map(([e, s]) => `${e}: ${s.ok} ok / ${s.error} error (${Math.round(s.ms)} ms)`);
  console.log(`fuzz: ${stats.sent} payloads (${stats.ok} ok, ${stats.error} error acks, ${stats.oversize} oversize, ${stats.validSchema} passed the schema and reached a handler)\n  ${lines.join('\n  ')}`);
});

// ---------------------------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------------------------

function snapshotPrototypes(): string {
  return JSON.stringify([Object.prototype, Array.prototype, Function.prototype, String.prototype].map((p) => Reflect.ownKeys(p).map(String).sort()));
}

/** An own enumerable property, even for `__proto__` (plain assignment would set the prototype). */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // A binary attachment (typed array) takes no named properties: it stays as it is.
  if (ArrayBuffer.isView(target)) return;
  // Nor does an array's `length` (no wire format has an array with a `length` of its own).
  if (Object.getOwnPropertyDescriptor(target, key)?.configurable === false) return;
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function nested(depth: number, array: boolean): unknown {
  let value: unknown = array ? [] : {};
  for (let i = 0; i < depth; i++) value = array ? [value] : { a: value };
  return value;
}

/** A string of about `bytes` UTF-8 bytes made of one character. */
function hugeString(bytes: number, char: string): string {
  return char.repeat(Math.max(1, Math.floor(bytes / Buffer.byteLength(char))));
}

const POISON_JSON = [
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"prototype":{"polluted":"yes"}}',
  '{"__proto__":null}',
  '{"__proto__":[1,2,3]}',
  '{"__proto__":{"codecs":[{"mimeType":"video/VP8","payloadType":96,"clockRate":90000}]}}',
  '{"__proto__":{"toString":"x","valueOf":1,"hasOwnProperty":"y"}}',
  '{"constructor":"x","toString":1,"hasOwnProperty":null,"valueOf":{}}',
];
const poisonArb = fc.constantFrom(...POISON_JSON).map((s) => JSON.parse(s) as unknown);

const specialArb = fc.constantFrom<unknown>(
  null, undefined, true, false, 0, -0, 1, -1, NaN, Infinity, -Infinity, 1e308, -1e308, 5e-324, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 255, 256, 65536, 0.5,
  '', ' ', '\u0000', '\ud800', '\udfff', '\u202e', '😀', 'null', 'undefined', 'true', '0', 'NaN', '__proto__', 'constructor', 'prototype',
  'audio', 'video', 'data', 'video/VP8', 'audio/opus', 'sha-256', 'client', 'server', 'auto',
  '00000000-0000-0000-0000-000000000000', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(257), '%00', '../../etc/passwd', '<script>', "'; DROP TABLE rooms; --",
  [], [null], [[]], {}, { '': '' }, { length: 1e9 },
);

/** Big but under the frame limit on its own (the frame check happens per payload). */
const hugeStringArb = fc
  .tuple(fc.integer({ min: 1_000, max: MAX_FRAME_BYTES - 4_000 }), fc.constantFrom('x', 'é', '😀', '\u0000', '"', '\\', '\ud800'))
  .map(([bytes, char]) => hugeString(bytes, char));

const deepArb = fc.tuple(fc.integer({ min: 2, max: 4_000 }), fc.boolean()).map(([depth, array]) => nested(depth, array));

const bigArrayArb = fc.tuple(fc.integer({ min: 100, max: 10_000 }), fc.constantFrom<unknown>(0, null, 'a', {}, [])).map(([n, v]) => Array.from({ length: n }, () => v));

const wideObjectArb = fc.integer({ min: 40, max: 3_000 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));

const binaryArb = fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes));

const hostileArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: specialArb },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => Number(n))) },
  { weight: 2, arbitrary: poisonArb },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: hugeStringArb },
  { weight: 1, arbitrary: deepArb },
  { weight: 1, arbitrary: bigArrayArb },
  { weight: 1, arbitrary: wideObjectArb },
  { weight: 1, arbitrary: binaryArb },
);

const keyArb = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'then', 'extra', '', 'admin', 'roomId', 'userId', 'id', 'codecs', 'type'),
  fc.string({ maxLength: 20 }),
  fc.integer({ min: 100, max: 30_000 }).map((n) => 'k'.repeat(n)),
);

// ---------------------------------------------------------------------------------------------
// Templates and one-field mutations
// ---------------------------------------------------------------------------------------------

type Path = (string | number)[];

/** Paths to nodes, down to a few levels (mutated payloads may already hold huge or deep values). */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value) && prefix.length < 6) {
    for (const [key, child] of Object.entries(value).slice(0, 64)) {
      const path = [...prefix, Array.isArray(value) ? Number(key) : key];
      out.push(path);
      pathsOf(child, path, out);
    }
  }
  return out;
}

/** Copies the levels pathsOf can reach (keeping own `__proto__` keys); deeper values are shared. */
function cloneTop(value: unknown, depth = 0): unknown {
  if (!value || typeof value !== 'object' || Buffer.isBuffer(value) || depth > 6) return value;
  // Array.from, not .map: a generated array may carry an own `constructor` key (species lookup).
  if (Array.isArray(value)) return Array.from(value, (v) => cloneTop(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) defineOwn(out, k, cloneTop(v, depth + 1));
  return out;
}

type Mutation = { op: 'delete' | 'replace' | 'extra' | 'wrap' | 'stringify' | 'proto'; index: number; value: unknown; key: string };

function mutate(template: unknown, { op, index, value, key }: Mutation): unknown {
  if (!template || typeof template !== 'object') return op === 'wrap' ? [template] : value;
  const copy = cloneTop(template) as Record<string, unknown>;
  const paths = [[], ...pathsOf(copy)] as Path[];
  const path = paths[index % paths.length]!;
  if (path.length === 0) {
    // The root itself.
    if (op === 'extra' || op === 'proto') {
      defineOwn(copy, op === 'proto' ? '__proto__' : key, value);
      return copy;
    }
    return op === 'wrap' ? [copy] : op === 'stringify' ? JSON.stringify(copy) : value;
  }
  let parent: Record<string | number, unknown> = copy;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  const current = parent[last];
  switch (op) {
    case 'delete':
      if (Array.isArray(parent)) {
        // By hand, not splice: the array may carry an own `constructor` key (species lookup).
        for (let i = last as number; i < parent.length - 1; i++) parent[i] = parent[i + 1];
        parent.length = Math.max(0, parent.length - 1);
      }
      else delete parent[last];
      break;
    case 'replace':
      parent[last] = value;
      break;
    case 'wrap':
      parent[last] = [current];
      break;
    case 'stringify':
      parent[last] = typeof current === 'string' ? Number(current) || [current] : JSON.stringify(current) ?? null;
      break;
    case 'extra':
    case 'proto': {
      const target = current && typeof current === 'object' && !Array.isArray(current) ? (current as Record<string, unknown>) : (parent as Record<string, unknown>);
      defineOwn(target, op === 'proto' ? '__proto__' : key, value);
      break;
    }
  }
  return copy;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('delete', 'replace', 'replace', 'replace', 'extra', 'wrap', 'stringify', 'proto'),
  index: fc.nat(),
  value: hostileArb,
  key: keyArb,
});

/** Symbols resolved at send time to the live ids of the fuzzing client (see resolveSymbols). */
const SYMBOLS = ['$room', '$user', '$send', '$recv', '$myProducer', '$theirProducer', '$consumer', '$otherRoom', '$otherUser', '$missing'] as const;
const idArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom<string>(...SYMBOLS) }, { weight: 1, arbitrary: fc.uuid() }, { weight: 1, arbitrary: hostileArb as fc.Arbitrary<string> });

function templates(caps: RtpCapabilities): Record<RequestName, fc.Arbitrary<unknown>> {
  const roomArb = fc.constantFrom('$room', '$room', '$otherRoom', 'fuzz-other');
  const rtpArb = fc.oneof(
    fc.constant(null).map(() => ({ kind: 'video', rtpParameters: videoRtpParameters() })),
    fc.constant(null).map(() => ({ kind: 'audio', rtpParameters: audioRtpParameters() })),
  );
  return {
    joinRoom: fc.record(
      {
        roomId: roomArb,
        userId: fc.constantFrom('$user', '$otherUser'),
        userName: fc.constantFrom('Fuzz', '  spaced  ', '😀'.repeat(40), 'Ünïcödé'),
        reclaimSecret: fc.constantFrom('A'.repeat(32), 'short', 'x'.repeat(64)),
        password: fc.constantFrom('hunter2', 'x'.repeat(128)),
        token: fc.constantFrom('a.b.c', 'eyJhbGciOiJub25lIn0.eyJyb29tSWQiOiJ4In0.'),
      },
      { requiredKeys: ['roomId', 'userId', 'userName'] },
    ),
    joinProbe: fc.constant({}),
    leaveRoom: fc.record({ roomId: roomArb, userId: fc.constantFrom('$user', '$otherUser') }),
    getRouterRtpCapabilities: fc.record({ roomId: roomArb }),
    createWebRtcTransport: fc.record({ roomId: roomArb, producing: fc.boolean(), consuming: fc.boolean() }),
    connectWebRtcTransport: fc.record({ transportId: idArb, dtlsParameters: fc.constant(FAKE_DTLS) }),
    produce: fc
      .tuple(fc.constantFrom('$send', '$send', '$recv'), rtpArb, fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 4 }), { nil: undefined }))
      .map(([transportId, { kind, rtpParameters }, appData]) => ({ transportId, kind, rtpParameters, ...(appData ? { appData } : {}) })),
    consume: fc.record(
      { producerId: fc.constantFrom('$theirProducer', '$theirProducer', '$myProducer'), rtpCapabilities: fc.constant(caps), transportId: fc.constantFrom('$recv', '$send') },
      { requiredKeys: ['producerId', 'rtpCapabilities'] },
    ),
    resumeConsumer: fc.record({ consumerId: fc.constantFrom('$consumer', '$consumer', '$myProducer') }),
    restartIce: fc.record({ transportId: fc.constantFrom('$send', '$recv', '$missing') }),
    producerClosed: fc.record({ producerId: fc.constantFrom('$myProducer', '$theirProducer') }),
    pauseProducer: fc.record({ producerId: fc.constantFrom('$myProducer', '$theirProducer') }),
    resumeProducer: fc.record({ producerId: fc.constantFrom('$myProducer', '$theirProducer') }),
    getProducers: fc.record({ roomId: roomArb }),
    pauseConsumer: fc.record({ consumerId: fc.constantFrom('$consumer', '$consumer', '$myProducer') }),
    setConsumerPreferredLayers: fc.record(
      { consumerId: fc.constantFrom('$consumer', '$consumer', '$myProducer'), spatialLayer: fc.integer({ min: -1, max: 4 }), temporalLayer: fc.integer({ min: -1, max: 4 }) },
      { requiredKeys: ['consumerId', 'spatialLayer'] },
    ),
    setConsumerPriority: fc.record({ consumerId: fc.constantFrom('$consumer', '$consumer', '$myProducer'), priority: fc.integer({ min: -1, max: 300 }) }),
    requestConsumerKeyFrame: fc.record({ consumerId: fc.constantFrom('$consumer', '$consumer', '$myProducer') }),
    sendChatMessage: fc.record({ text: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', '   ', '<img src=x onerror=alert(1)>', 'a\u0000b', 'x'.repeat(1001))) }),
    getChatHistory: fc.constant({}),
    setHandRaised: fc.record({ raised: fc.oneof(fc.boolean(), fc.constant('yes' as unknown as boolean)) }),
    sendReaction: fc.record({ emoji: fc.oneof(fc.constantFrom('👍', '🎉', '💩', '<b>'), fc.string({ maxLength: 4 })) }),
    hostMuteParticipant: fc.record({ userId: fc.constantFrom('$user', '$otherUser') }),
    hostAskToUnmute: fc.record({ userId: fc.constantFrom('$user', '$otherUser') }),
    hostStopScreenShare: fc.record({ userId: fc.constantFrom('$user', '$otherUser') }),
    hostRemoveParticipant: fc.record({ userId: fc.constantFrom('$user', '$otherUser'), reason: fc.string({ maxLength: 30 }) }, { requiredKeys: ['userId'] }),
    hostLowerHand: fc.record({ userId: fc.constantFrom('$user', '$otherUser') }),
    setRoomLocked: fc.record({ locked: fc.boolean() }),
    admitParticipant: fc.record({ userId: fc.constantFrom('$user', '$otherUser') }),
    denyParticipant: fc.record({ userId: fc.constantFrom('$user', '$otherUser') }),
    setParticipantRole: fc.record({ userId: fc.constantFrom('$user', '$otherUser'), role: fc.constantFrom('host', 'guest', 'admin') as fc.Arbitrary<'host' | 'guest'> }),
  };
}

// Schema-valid but odd media parameters: these get past zod into mediasoup's ortc code and the worker.
const smallScalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -(2 ** 31), max: 2 ** 32 }), fc.boolean(), fc.constant(null));
const codecParamsArb = fc.dictionary(
  fc.oneof(fc.constantFrom('apt', 'profile-id', 'profile-level-id', 'packetization-mode', 'level-asymmetry-allowed', 'useinbandfec', 'usedtx', 'x-google-start-bitrate', 'minptime'), fc.string({ maxLength: 10 })),
  fc.oneof(smallScalar, fc.constantFrom<unknown>('42e01f', '42001f', '640032', 'zzzzzz', 0, 1, 2, 96, 97)),
  { maxKeys: 5 },
);
const mimeArb = fc.oneof(
  fc.constantFrom('video/VP8', 'video/VP9', 'video/H264', 'video/H265', 'video/AV1', 'video/rtx', 'audio/opus', 'audio/PCMU', 'audio/rtx', 'video/red', 'video/ulpfec', 'audio/telephone-event', 'video/', 'VIDEO/vp8', 'text/plain'),
  fc.string({ maxLength: 20 }),
);
const fbArb = fc.record({ type: fc.constantFrom('nack', 'ccm', 'goog-remb', 'transport-cc', 'x'), parameter: fc.constantFrom('pli', 'fir', '', 'x') }, { requiredKeys: ['type'] });
const intish = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constantFrom(0, 96, 127, 128, 255, 256, 90000, 48000, 2 ** 31, 2 ** 32, 2 ** 53 - 1, -(2 ** 53) + 1));
const rtpParamsArb = fc.record(
  {
    mid: fc.oneof(fc.constantFrom('0', '1', '', 'a'.repeat(32)), fc.string({ maxLength: 8 })),
    codecs: fc.array(
      fc.record({ mimeType: mimeArb, payloadType: intish, clockRate: intish, channels: intish, parameters: codecParamsArb, rtcpFeedback: fc.array(fbArb, { maxLength: 4 }) }, { requiredKeys: ['mimeType', 'payloadType', 'clockRate'] }),
      { minLength: 1, maxLength: 4 },
    ),
    headerExtensions: fc.array(
      fc.record({ uri: fc.constantFrom('urn:ietf:params:rtp-hdrext:sdes:mid', 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id', 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', 'urn:3gpp:video-orientation', 'bogus'), id: intish, encrypt: fc.boolean() }, { requiredKeys: ['uri', 'id'] }),
      { maxLength: 4 },
    ),
    encodings: fc.array(
      fc.record(
        { ssrc: intish, rid: fc.constantFrom('r0', 'r1', 'r2', '', 'x'.repeat(32)), rtx: fc.record({ ssrc: intish }), scalabilityMode: fc.constantFrom('L1T3', 'L3T3', 'S3T3', 'L3T3_KEY', 'L9T9', 'garbage', ''), maxBitrate: fc.oneof(intish, fc.double()), dtx: fc.boolean() },
        { requiredKeys: [] },
      ),
      { maxLength: 5 },
    ),
    rtcp: fc.record({ cname: fc.string({ maxLength: 10 }), reducedSize: fc.boolean(), mux: fc.boolean() }, { requiredKeys: [] }),
  },
  { requiredKeys: ['codecs'] },
);
const capsArb = (caps: RtpCapabilities) =>
  fc.oneof(
    fc.subarray(caps.codecs ?? []).chain((codecs) => fc.subarray(caps.headerExtensions ?? []).map((headerExtensions) => ({ codecs, headerExtensions }))),
    fc.record(
      {
        codecs: fc.array(fc.record({ kind: fc.constantFrom('audio', 'video'), mimeType: mimeArb, preferredPayloadType: intish, clockRate: intish, channels: intish, parameters: codecParamsArb, rtcpFeedback: fc.array(fbArb, { maxLength: 3 }) }, { requiredKeys: ['kind', 'mimeType', 'clockRate'] }), { maxLength: 6 }),
        headerExtensions: fc.array(fc.record({ kind: fc.constantFrom('audio', 'video'), uri: fc.constantFrom('urn:ietf:params:rtp-hdrext:sdes:mid', 'bogus'), preferredId: intish, preferredEncrypt: fc.boolean(), direction: fc.constantFrom('sendrecv', 'recvonly', 'inactive', 'bogus') }, { requiredKeys: ['kind', 'uri', 'preferredId'] }), { maxLength: 4 }),
      },
      { requiredKeys: [] },
    ),
  );
const dtlsArb = fc.record(
  {
    role: fc.constantFrom('auto', 'client', 'server'),
    fingerprints: fc.array(fc.record({ algorithm: fc.constantFrom('sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512', 'md5', 'SHA-256', ''), value: fc.oneof(fc.constant(FAKE_DTLS.fingerprints[0]!.value), fc.string({ maxLength: 120 })) }), { minLength: 1, maxLength: 8 }),
  },
  { requiredKeys: ['fingerprints'] },
);

/** Per event, payloads that pass the schema with odd contents (undefined: the templates suffice). */
function oddButValid(caps: RtpCapabilities): Partial<Record<RequestName, fc.Arbitrary<unknown>>> {
  return {
    produce: fc.record({ transportId: fc.constantFrom('$send', '$send', '$recv'), kind: fc.constantFrom('audio', 'video'), rtpParameters: rtpParamsArb, appData: fc.dictionary(fc.string({ maxLength: 32 }), fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.constant(null)), { maxKeys: 16 }) }, { requiredKeys: ['transportId', 'kind', 'rtpParameters'] }),
    consume: fc.record({ producerId: fc.constantFrom('$theirProducer', '$myProducer', '$missing'), rtpCapabilities: capsArb(caps), transportId: fc.constantFrom('$recv', '$send') }, { requiredKeys: ['producerId', 'rtpCapabilities'] }),
    connectWebRtcTransport: fc.record({ transportId: fc.constantFrom('$send', '$recv'), dtlsParameters: dtlsArb }),
    createWebRtcTransport: fc.record({ roomId: fc.constantFrom('$room'), producing: fc.boolean(), consuming: fc.boolean() }),
  };
}

function payloadArb(template: fc.Arbitrary<unknown>, odd?: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 2, arbitrary: template },
    { weight: odd ? 4 : 0, arbitrary: odd ?? template },
    { weight: 6, arbitrary: fc.tuple(template, mutationArb).map(([t, m]) => mutate(t, m)) },
    { weight: 1, arbitrary: fc.tuple(template, mutationArb, mutationArb).map(([t, m1, m2]) => mutate(mutate(t, m1), m2)) },
    { weight: 2, arbitrary: hostileArb },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 4, withBoxedValues: false }) },
  );
}

// ---------------------------------------------------------------------------------------------
// Sending and checking
// ---------------------------------------------------------------------------------------------

/** The live ids the symbols stand for. */
interface Ids {
  room: string;
  user: string;
  send?: string;
  recv?: string;
  myProducer?: string;
  theirProducer?: string;
  consumer?: string;
}

/** Replaces symbol strings (down to a few levels) with live ids; leaves everything else alone. */
function resolveSymbols(value: unknown, ids: Ids, depth = 0): unknown {
  if (typeof value === 'string' && value.startsWith('$') && (SYMBOLS as readonly string[]).includes(value)) {
    const map: Record<string, string | undefined> = {
      $room: ids.room, $user: ids.user, $send: ids.send, $recv: ids.recv, $myProducer: ids.myProducer, $theirProducer: ids.theirProducer,
      $consumer: ids.consumer, $otherRoom: 'fuzz-bystander', $otherUser: bystander.userId, $missing: '11111111-2222-3333-4444-555555555555',
    };
    return map[value] ?? 'unset';
  }
  if (depth > 3 || !value || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.length > 64 ? value : Array.from(value, (v) => resolveSymbols(v, ids, depth + 1));
  const out: Record<string, unknown> = {};
  const entries = Object.entries(value);
  if (entries.length > 64) return value;
  for (const [k, v] of entries) defineOwn(out, k, resolveSymbols(v, ids, depth + 1));
  return out;
}

/** Result shapes: the fields the protocol promises (extra fields are allowed: the protocol grows). */
const replySchemas: Record<RequestName, z.ZodType> = (() => {
  const id = z.string().uuid();
  const empty = z.strictObject({});
  const ice = z.looseObject({ usernameFragment: z.string(), password: z.string() });
  return {
    joinRoom: z.union([z.looseObject({ participants: z.array(z.looseObject({ userId: z.string(), userName: z.string() })) }), z.strictObject({ lobby: z.literal(true) })]),
    joinProbe: z.strictObject({ roomId: z.string().regex(/^probe-[A-Za-z0-9_-]{16}$/), expiresInMs: z.number().int().positive() }),
    leaveRoom: empty,
    getRouterRtpCapabilities: z.looseObject({ rtpCapabilities: z.looseObject({ codecs: z.array(z.looseObject({ mimeType: z.string() })).min(1) }) }),
    createWebRtcTransport: z.looseObject({ id, iceParameters: ice, iceCandidates: z.array(z.looseObject({ ip: z.string(), port: z.number() })).min(1), dtlsParameters: z.looseObject({ fingerprints: z.array(z.looseObject({})).min(1) }) }),
    connectWebRtcTransport: empty,
    produce: z.looseObject({ producerId: id }),
    consume: z.looseObject({ id, producerId: id, kind: z.enum(['audio', 'video']), rtpParameters: z.looseObject({ codecs: z.array(z.looseObject({})).min(1) }), appData: z.record(z.string(), z.unknown()), userId: z.string() }),
    resumeConsumer: empty,
    restartIce: z.looseObject({ iceParameters: ice }),
    producerClosed: empty,
    pauseProducer: empty,
    resumeProducer: empty,
    getProducers: z.looseObject({ producers: z.array(z.looseObject({ producerId: id, userId: z.string(), kind: z.enum(['audio', 'video']), appData: z.record(z.string(), z.unknown()) })) }),
    pauseConsumer: empty,
    setConsumerPreferredLayers: empty,
    setConsumerPriority: empty,
    requestConsumerKeyFrame: empty,
    sendChatMessage: empty,
    getChatHistory: z.strictObject({ messages: z.array(z.strictObject({ id, userId: z.string(), userName: z.string(), text: z.string(), sentAt: z.number() })).max(100) }),
    setHandRaised: empty,
    sendReaction: empty,
    hostMuteParticipant: empty,
    hostAskToUnmute: empty,
    hostStopScreenShare: empty,
    hostRemoveParticipant: empty,
    hostLowerHand: empty,
    setRoomLocked: empty,
    admitParticipant: empty,
    denyParticipant: empty,
    setParticipantRole: empty,
  };
})();

/** Buffers travel as binary attachments; socket.io-client rebuilds such payloads (own `__proto__` keys are lost). */
function containsBuffer(value: unknown, depth = 0): boolean {
  if (Buffer.isBuffer(value)) return true;
  if (!value || typeof value !== 'object' || depth > 8) return false;
  return Object.values(value).some((v) => containsBuffer(v, depth + 1));
}

/**
 * The largest WebSocket message the client library makes of this emit, as the server's frame limit
 * sees it: socket.io encodes a payload with binary parts as a JSON header plus one message per
 * attachment, and on the way drops keys JSON would keep (its copy of the payload assigns `__proto__`
 * instead of defining it), so measure what its own encoder produces.
 */
function frameBytes(event: string, payload: unknown): number {
  try {
    const messages = new Encoder().encode({ type: PacketType.EVENT, nsp: '/', data: [event, payload], id: 1 });
    return Math.max(...messages.map((m: string | Buffer) => (typeof m === 'string' ? Buffer.byteLength(m) : m.byteLength))) + 16;
  } catch {
    return Number.POSITIVE_INFINITY; // too deep to serialize: the client could not send it either
  }
}

function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? String(value);
  } catch {
    text = `<unserializable ${typeof value}>`;
  }
  return text.length > 400 ? `${text.slice(0, 400)}… (${text.length} chars)` : text;
}

function emitRaw(client: TestClient, event: string, payload: unknown): Promise<unknown> {
  return (client.socket.timeout(ACK_TIMEOUT_MS) as unknown as { emitWithAck(e: string, p: unknown): Promise<unknown> }).emitWithAck(event, payload);
}

/** What the server decodes: the wire turns NaN/Infinity into null and drops undefined. */
function onTheWire(payload: unknown): unknown {
  return (JSON.parse(JSON.stringify([payload]) ?? '[null]') as unknown[])[0];
}

/** Checks one ack against the contract; returns a description of what is wrong, if anything. */
function judge(event: RequestName, payload: unknown, reply: unknown): string | undefined {
  const schemaOk = !containsBuffer(payload) && requestSchemas[event].safeParse(onTheWire(payload)).success;
  if (schemaOk) stats.validSchema++;
  if (reply && typeof reply === 'object' && !Array.isArray(reply) && 'error' in reply) {
    const { error, code } = reply as { error: unknown; code: unknown };
    if (Object.keys(reply).length !== 2 || typeof error !== 'string' || !(ERROR_CODES as readonly unknown[]).includes(code)) return `error ack is not exactly {error: string, code: ErrorCode}: ${show(reply)}`;
    if (code === 'internal' && !/failed on the server/.test(error)) return `internal code without the internal message: ${show(reply)}`;
    const message = (reply as { error: string }).error;
    if (/failed on the server/.test(message) && !internalErrors.has(event)) internalErrors.set(event, payload);
    return undefined;
  }
  const shape = replySchemas[event].safeParse(reply);
  if (!shape.success) return `ack is neither a valid ${event} result nor {error}: ${show(reply)} (${shape.error.issues[0]?.message})`;
  if (!containsBuffer(payload) && !schemaOk) return `succeeded although the schema refuses the payload: ${show(reply)}`;
  return undefined;
}

interface SentCase {
  event: RequestName;
  payload: unknown;
  reply?: unknown;
  failure?: string;
}

function count(event: string, ok: boolean): void {
  const entry = stats.byEvent.get(event) ?? { ok: 0, error: 0, ms: 0 };
  if (ok) entry.ok++;
  else entry.error++;
  stats.byEvent.set(event, entry);
  if (ok) stats.ok++;
  else stats.error++;
}

/** An oversize frame: only that socket is dropped, and no ack comes. */
async function sendOversize(event: RequestName, payload: unknown): Promise<string | undefined> {
  stats.oversize++;
  const victim = await connectClient(server.url);
  try {
    const dropped = new Promise<void>((resolve) => victim.socket.once('disconnect', () => resolve()));
    let acked: unknown;
    const answered = new Promise<void>((resolve) =>
      (victim.socket as unknown as { emit(...a: unknown[]): void }).emit(event, payload, (reply: unknown) => {
        acked = reply;
        resolve();
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((_r, reject) => (timer = setTimeout(() => reject(new Error('oversize frame did not drop the socket')), ACK_TIMEOUT_MS)));
    await Promise.race([dropped, answered, timeout]).finally(() => clearTimeout(timer));
    if (acked !== undefined) return `oversize frame was answered: ${show(acked)}`;
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    victim.close();
  }
}

/** Sends one batch in parallel on one socket; every case must be answered per the contract. */
async function sendBatch(client: TestClient, event: RequestName, payloads: unknown[], ids: Ids): Promise<SentCase[]> {
  const cases = payloads.map((p) => ({ event, payload: resolveSymbols(p, ids) }) as SentCase);
  await Promise.all(
    cases.map(async (c) => {
      stats.sent++;
      const bytes = frameBytes(event, c.payload);
      if (bytes === Number.POSITIVE_INFINITY) return; // cannot be put on the wire by any client
      if (bytes > MAX_FRAME_BYTES + FRAME_SLACK) {
        c.failure = await sendOversize(event, c.payload);
        return;
      }
      if (bytes > MAX_FRAME_BYTES - FRAME_SLACK) return; // right at the limit: either outcome is fine
      try {
        c.reply = await emitRaw(client, event, c.payload);
      } catch (error) {
        c.failure = `no ack within ${ACK_TIMEOUT_MS} ms (${(error as Error).message})`;
        return;
      }
      const ok = !(c.reply && typeof c.reply === 'object' && 'error' in c.reply);
      count(event, ok);
      c.failure = judge(event, c.payload, c.reply);
    }),
  );
  if (!client.socket.connected) {
    const first = cases.find((c) => frameBytes(event, c.payload) <= MAX_FRAME_BYTES);
    assert.fail(`${event}: socket was dropped by a batch of in-limit payloads, e.g. ${show(first?.payload)}`);
  }
  const failed = cases.find((c) => c.failure);
  if (failed) assert.fail(`${event} ${show(failed.payload)} → ${failed.failure}`);
  return cases;
}

function fuzzParams(): fc.Parameters<[unknown[]]> {
  return { numRuns: BATCHES, endOnFailure: true, ...(SEED !== undefined ? { seed: SEED } : {}) };
}

/**
 * fc.assert's report prints the whole counterexample batch (deep payloads overflow its printer):
 * report our own one-case message, with the seed and path to replay it.
 */
async function check(event: RequestName, property: fc.IAsyncProperty<[unknown[]]>): Promise<void> {
  const started = performance.now();
  const details = await fc.check(property, fuzzParams());
  const entry = stats.byEvent.get(event);
  if (entry) entry.ms += performance.now() - started;
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    assert.fail(`${event}: ${cause}\n  replay with FUZZ_SEED=${details.seed} (path ${details.counterexamplePath})`);
  }
}

const batchOf = (arb: fc.Arbitrary<unknown>) => fc.array(arb, { minLength: BATCH, maxLength: BATCH });

// ---------------------------------------------------------------------------------------------
// The fuzzing client's room (after-join phase)
// ---------------------------------------------------------------------------------------------

interface Scene {
  fuzzer: TestClient;
  partner: TestClient;
  ids: Ids;
}

/**
 * Brings the fuzzing client back to: joined, one send and one receive transport, a producer of its
 * own, a consumer of the partner's producer. Uses the server's view to find what survived the batch.
 */
async function repair(scene: Scene, caps: RtpCapabilities): Promise<void> {
  const { fuzzer, ids } = scene;
  assert.ok(fuzzer.socket.connected, 'fuzzing socket is still connected');
  const session = server.signaling.connections.get(fuzzer.socket.id!)!.session;
  if (session.room && session.room.id !== ids.room) await fuzzer.ok('leaveRoom', { roomId: session.room.id, userId: session.peer!.userId });
  let peer = server.registry.get(ids.room)?.peers.get(ids.user);
  if (peer && (peer.transports.size >= 4 || peer.consumers.size > 200 || peer.producers.size >= 8)) {
    await fuzzer.ok('leaveRoom', { roomId: ids.room, userId: ids.user });
    peer = undefined;
  }
  if (!peer || peer.closed || server.signaling.connections.get(fuzzer.socket.id!)!.session.peer !== peer) {
    await fuzzer.ok('joinRoom', { roomId: ids.room, userId: ids.user, userName: 'Fuzzer' });
    peer = server.registry.get(ids.room)!.peers.get(ids.user)!;
  }
  const sendT = [...peer.transports.values()].find((t) => t.appData.producing);
  ids.send = sendT?.id ?? (await fuzzer.ok('createWebRtcTransport', { roomId: ids.room, producing: true, consuming: false })).id;
  const recvT = [...peer.transports.values()].find((t) => t.appData.consuming);
  ids.recv = recvT?.id ?? (await fuzzer.ok('createWebRtcTransport', { roomId: ids.room, producing: false, consuming: true })).id;
  ids.myProducer = [...peer.producers.keys()][0] ?? (await fuzzer.ok('produce', { transportId: ids.send, kind: 'video', rtpParameters: videoRtpParameters() })).producerId;
  const partnerPeer = server.registry.get(ids.room)!.peers.get(scene.partner.userId)!;
  ids.theirProducer = [...partnerPeer.producers.keys()][0]!;
  ids.consumer = [...peer.consumers.values()].find((c) => c.producerId === ids.theirProducer)?.id ?? (await fuzzer.ok('consume', { producerId: ids.theirProducer, rtpCapabilities: caps, transportId: ids.recv })).id;
}

/** Every object the server holds for the room is in the worker, and vice versa. */
async function assertConsistent(): Promise<void> {
  const maps = { routers: 0, transports: 0, producers: 0, consumers: 0 };
  for (const room of server.registry.rooms) {
    maps.routers++;
    for (const peer of room.peers.values()) {
      maps.transports += peer.transports.size;
      maps.producers += peer.producers.size;
      maps.consumers += peer.consumers.size;
    }
  }
  assert.deepEqual(await workerCounts(server), maps, 'worker dump matches the rooms\' Maps');
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('fuzzing every signaling event', () => {
  let caps: RtpCapabilities;
  let arbs: Record<RequestName, fc.Arbitrary<unknown>>;
  let odd: Partial<Record<RequestName, fc.Arbitrary<unknown>>>;
  const workerPids = new Map<number, number>();

  before(async () => {
    ({ rtpCapabilities: caps } = await bystander.ok('getRouterRtpCapabilities', { roomId: 'fuzz-bystander' }));
    arbs = templates(caps);
    odd = oddButValid(caps);
    for (const w of server.pool.workers) workerPids.set(w.index, w.worker.pid);
  });

  test('before joinRoom: every event, generated payloads', async () => {
    const client = await connectClient(server.url);
    const ids: Ids = { room: 'fuzz-pre', user: client.userId };
    for (const event of REQUEST_NAMES) {
      await check(
        event,
        fc.asyncProperty(batchOf(payloadArb(arbs[event], odd[event])), async (payloads) => {
          const cases = await sendBatch(client, event, payloads, ids);
          if (event !== 'joinRoom' && event !== 'joinProbe') {
            const accepted = cases.find((c) => c.reply && !(typeof c.reply === 'object' && 'error' in c.reply));
            assert.equal(accepted, undefined, `${event} succeeded before joinRoom: ${show(accepted?.payload)}`);
          }
          // A joinRoom (or joinProbe) that went through: leave again so the next batch starts unjoined.
          const session = server.signaling.connections.get(client.socket.id!)!.session;
          if (session.room && session.peer) await client.ok('leaveRoom', { roomId: session.room.id, userId: session.peer.userId });
        }),
      );
    }
    assert.equal(client.socket.connected, true);
    client.close();
  });

  test('after a valid join with transports: every event, generated payloads', async () => {
    const roomId = 'fuzz-room';
    const partner = await connectClient(server.url);
    await partner.ok('joinRoom', { roomId, userId: partner.userId, userName: 'Partner' });
    const partnerSend = await partner.ok('createWebRtcTransport', { roomId, producing: true, consuming: true });
    await partner.ok('produce', { transportId: partnerSend.id, kind: 'video', rtpParameters: videoRtpParameters(), appData: { type: 'camera' } });
    const fuzzer = await connectClient(server.url);
    const scene: Scene = { fuzzer, partner, ids: { room: roomId, user: fuzzer.userId } };
    await repair(scene, caps);

    for (const event of REQUEST_NAMES) {
      await check(
        event,
        fc.asyncProperty(batchOf(payloadArb(arbs[event], odd[event])), async (payloads) => {
          await sendBatch(fuzzer, event, payloads, scene.ids);
          // The partner's producer is the one thing the fuzzer must never be able to touch.
          assert.equal(server.registry.get(roomId)!.peers.get(partner.userId)!.producers.size, 1, 'partner still has its producer');
          await assertConsistent();
          await repair(scene, caps);
        }),
      );
    }
    assert.equal(fuzzer.socket.connected, true);
    assert.equal(partner.socket.connected, true);
    await assertConsistent();
    fuzzer.close();
    partner.close();
  });

  test('afterwards the server still serves, nothing leaked and nothing polluted', async () => {
    assert.equal(snapshotPrototypes(), protoNamesBefore, 'built-in prototypes gained no properties');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(bystander.socket.connected, true);
    assert.deepEqual(await bystander.ok('getProducers', { roomId: 'fuzz-bystander' }), { producers: [] });
    // The same worker processes as at the start: nothing crashed one.
    assert.deepEqual(new Map(server.pool.workers.map((w) => [w.index, w.worker.pid])), workerPids);
    assert.ok(server.pool.workers.every((w) => !w.closed && !w.worker.died));
    // Only the bystander's room is left once the fuzzing clients are gone.
    await waitFor(() => server.registry.size === 1, { what: `rooms other than the bystander's to close (left: ${[...server.registry.rooms].map((r) => r.id)})` });
    await assertConsistent();
    assert.deepEqual(await workerCounts(server), { routers: 1, transports: 0, producers: 0, consumers: 0 });
    assert.equal(server.signaling.connections.size, 1, 'only the bystander is connected');
    assert.ok(stats.sent >= 2 * REQUEST_NAMES.length * BATCHES * BATCH, `sent ${stats.sent} payloads`);
  });

  test('no generated payload is answered as an internal server error', () => {
    // "<event> failed on the server" means the handler threw something other than a UserError: the
    // server logged a client's garbage as its own failure (error level, with a stack).
    const found = [...internalErrors].map(([event, payload]) => `${event}: ${show(payload)}`);
    assert.deepEqual(found, [], `client payloads answered as internal errors:\n  ${found.join('\n  ')}`);
  });
});

/**
 * Minimal reproductions of what the fuzzer (and the soak script) found. Each states the contract; they fail until the
 * server is fixed (see the report that came with this file).
 */
describe('regressions found by fuzzing', () => {
  function raw(client: TestClient, event: string, payload: unknown): Promise<unknown> {
    return emitRaw(client, event, payload);
  }

  test('a produce reusing a MID or SSRC of the same transport is a user error, not an internal one', async () => {
    const c = await joinWithTransports(server, 'fuzz-dup-mid');
    const first = videoRtpParameters();
    await c.ok('produce', { transportId: c.sendTransportId, kind: 'video', rtpParameters: first });
    // Same mid "0" (fresh ssrc), then same ssrc (fresh mid): the worker refuses both with a plain Error.
    const sameMid = await raw(c, 'produce', { transportId: c.sendTransportId, kind: 'video', rtpParameters: videoRtpParameters() });
    const sameSsrc = await raw(c, 'produce', { transportId: c.sendTransportId, kind: 'video', rtpParameters: { ...first, mid: '5' } });
    c.close();
    for (const reply of [sameMid, sameSsrc]) {
      assert.ok(reply && typeof reply === 'object' && 'error' in reply, `expected an error ack, got ${show(reply)}`);
      assert.doesNotMatch((reply as { error: string }).error, /failed on the server/, 'a duplicate MID/SSRC is the client\'s fault');
    }
  });

  test('binary attachments where rtpParameters expect an object are refused as a user error', async () => {
    const c = await joinWithTransports(server, 'fuzz-binary');
    // zod's looseObject accepts a Buffer as an object and copies its inherited enumerable
    // Buffer.prototype methods; mediasoup's structuredClone of rtpParameters then throws DataCloneError.
    const replies = [
      await raw(c, 'produce', { transportId: c.sendTransportId, kind: 'video', rtpParameters: { ...videoRtpParameters(), rtcp: Buffer.from([1, 2]) } }),
      await raw(c, 'produce', { transportId: c.sendTransportId, kind: 'video', rtpParameters: { ...videoRtpParameters(), mid: '3', encodings: [Buffer.from([1])] } }),
    ];
    c.close();
    for (const reply of replies) {
      assert.ok(reply && typeof reply === 'object' && 'error' in reply, `expected an error ack, got ${show(reply)}`);
      assert.doesNotMatch((reply as { error: string }).error, /failed on the server/, 'a Buffer in rtpParameters is the client\'s fault');
    }
  });

  test('resumeConsumer racing the producer\'s close is a user error, not an internal one', async () => {
    // Found by scripts/soak.ts: the consumer is still in the peer's Map when the worker already closed
    // it (producer gone), so consumer.resume() rejects with mediasoup's NotFoundError, which the
    // handler does not map to a UserError → "resumeConsumer failed on the server", logged as an error.
    const a = await joinWithTransports(server, 'fuzz-resume-race');
    const b = await joinWithTransports(server, 'fuzz-resume-race');
    const { rtpCapabilities } = await b.ok('getRouterRtpCapabilities', { roomId: 'fuzz-resume-race' });
    const replies = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const { producerId } = await a.ok('produce', { transportId: a.sendTransportId, kind: 'video', rtpParameters: { ...videoRtpParameters(), mid: String(i) } });
      const consumer = await b.ok('consume', { producerId, rtpCapabilities });
      const closing = a.request('producerClosed', { producerId });
      await new Promise((resolve) => setTimeout(resolve, i % 4)); // vary who wins the race
      const reply = await b.request('resumeConsumer', { consumerId: consumer.id });
      await closing;
      const key = 'error' in reply ? reply.error : 'ok';
      replies.set(key, (replies.get(key) ?? 0) + 1);
    }
    a.close();
    b.close();
    assert.equal(replies.get('resumeConsumer failed on the server'), undefined, `replies: ${JSON.stringify(Object.fromEntries(replies))}`);
  });

  test('RTP numbers outside their wire range are refused, not silently truncated by the worker', async () => {
    const c = await joinWithTransports(server, 'fuzz-ranges');
    const base = videoRtpParameters();
    const cases = {
      'payloadType 1000 (worker keeps 232)': { ...base, codecs: [{ ...base.codecs[0]!, payloadType: 1000 }] },
      'ssrc -1 (worker keeps 4294967295)': { ...base, mid: '1', encodings: [{ ssrc: -1 }] },
      'header extension id 300 (worker keeps 44)': { ...base, mid: '2', encodings: [{ ssrc: 7 }], headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 300 }] },
    };
    const accepted: string[] = [];
    for (const [name, rtpParameters] of Object.entries(cases)) {
      const reply = await raw(c, 'produce', { transportId: c.sendTransportId, kind: 'video', rtpParameters });
      if (reply && typeof reply === 'object' && 'producerId' in reply) accepted.push(name);
    }
    c.close();
    assert.deepEqual(accepted, [], 'out-of-range RTP fields were accepted');
  });
});
