/**
 * Type-level tests: they fail `npm run typecheck`, not at run time. The runtime schemas and the
 * shared event map must describe the same payloads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import type { ClientToServerEvents, ErrorCode, ErrorReply, ReplyOf, RequestName, RequestOf, ServerToClientEvents } from '../../src/signaling/protocol.ts';
import { ERROR_CODES, REQUEST_NAMES } from '../../src/signaling/protocol.ts';
import type { UserError } from '../../src/signaling/errors.ts';
import type { requestSchemas } from '../../src/signaling/schemas.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

type SchemaKeys<E extends RequestName> = keyof z.output<(typeof requestSchemas)[E]>;

// Every request's schema has exactly the fields of the shared type.
export type SameFields = Expect<Equal<{ [E in RequestName]: SchemaKeys<E> }, { [E in RequestName]: keyof RequestOf<E> }>>;
// The runtime list of request names is the full set.
export type AllNames = Expect<Equal<(typeof REQUEST_NAMES)[number], RequestName>>;
// Scalar fields keep their exact types.
export type JoinTypes = Expect<Equal<z.output<(typeof requestSchemas)['joinRoom']>, RequestOf<'joinRoom'>>>;
export type TransportFlags = Expect<Equal<z.output<(typeof requestSchemas)['createWebRtcTransport']>, RequestOf<'createWebRtcTransport'>>>;
export type ProbeTypes = Expect<Equal<z.output<(typeof requestSchemas)['joinProbe']>, RequestOf<'joinProbe'>>>;
// The contract's reply and event shapes, exactly (extras travel as events of their own).
export type JoinReply = Expect<Equal<ReplyOf<'joinRoom'>, { participants: { userId: string; userName: string }[] } | { lobby: true }>>;
export type ProducerListing = Expect<Equal<keyof ReplyOf<'getProducers'>['producers'][number], 'producerId' | 'userId' | 'kind' | 'appData'>>;
export type NewProducerEvent = Expect<Equal<keyof Parameters<ServerToClientEvents['newProducer']>[0], 'producerId' | 'userId' | 'kind' | 'appData'>>;
export type ConsumeReply = Expect<Equal<keyof ReplyOf<'consume'>, 'id' | 'producerId' | 'kind' | 'rtpParameters' | 'appData' | 'userId'>>;
// Acks are result-or-error, and an error is an English sentence plus a code from the one list.
export type JoinAck = Expect<Equal<Parameters<Parameters<ClientToServerEvents['joinRoom']>[1]>[0], ReplyOf<'joinRoom'> | { error: string; code: ErrorCode }>>;
export type ErrorReplyShape = Expect<Equal<ErrorReply, { error: string; code: ErrorCode }>>;
export type ReplyCodeIsErrorCode = Expect<Equal<ErrorReply['code'], ErrorCode>>;
export type CodesAreTheList = Expect<Equal<ErrorCode, (typeof ERROR_CODES)[number]>>;
export type UserErrorCarriesACode = Expect<Equal<UserError['code'], ErrorCode>>;
// Exactly these codes, no more and no fewer: the browser client switches on them.
export type EveryCode = Expect<
  Equal<
    ErrorCode,
    | 'invalid_payload'
    | 'unknown_request'
    | 'invalid_request'
    | 'not_joined'
    | 'already_joined'
    | 'seat_taken'
    | 'room_not_found'
    | 'room_gone'
    | 'room_closing'
    | 'password_required'
    | 'password_wrong'
    | 'token_required'
    | 'token_invalid'
    | 'token_expired'
    | 'rate_limited'
    | 'limit_reached'
    | 'not_found'
    | 'media_rejected'
    | 'unavailable'
    | 'internal'
    | 'forbidden'
    | 'removed'
  >
>;
// A code outside the list does not type-check.
// @ts-expect-error 'not_a_code' is not an ErrorCode
export const notACode: ErrorCode = 'not_a_code';

test('protocol types are checked by the compiler (npm run typecheck)', () => {});

test('ERROR_CODES lists every code once', () => {
  assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length);
  assert.equal(ERROR_CODES.length, 22);
});
