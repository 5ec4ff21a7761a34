import assert from 'node:assert/strict';
import { test } from 'node:test';
import { afterJoinFailure, SEAT_RETRIES } from '../../src/client/admission.ts';

test('a seat still held by our old connection is waited for, a while', () => {
  assert.equal(afterJoinFailure('seat_taken', false, 0), 'await-seat');
  assert.equal(afterJoinFailure('seat_taken', true, SEAT_RETRIES - 1), 'await-seat');
  assert.equal(afterJoinFailure('seat_taken', true, SEAT_RETRIES), 'retry');
});

test('password and token refusals end a first join; mid-call they are retried', () => {
  for (const code of ['password_required', 'password_wrong', 'token_required', 'token_invalid', 'token_expired'] as const) {
    assert.equal(afterJoinFailure(code, false, 0), 'refused', code);
    assert.equal(afterJoinFailure(code, true, 0), 'retry', code);
  }
});

test('a room gone for good, or one the server does not know, ends the call even mid-call', () => {
  assert.equal(afterJoinFailure('room_gone', true, 0), 'refused');
  assert.equal(afterJoinFailure('room_not_found', false, 0), 'refused');
  assert.equal(afterJoinFailure('room_not_found', true, 0), 'refused');
});

test('everything else is tried again', () => {
  for (const code of ['timeout', 'disconnected', 'internal', 'unavailable', 'room_closing', 'rate_limited', undefined] as const) {
    assert.equal(afterJoinFailure(code, false, 0), 'retry', String(code));
  }
});

test('removed from the room: final, before and during the call', () => {
  assert.equal(afterJoinFailure('removed', false, 0), 'refused');
  assert.equal(afterJoinFailure('removed', true, 0), 'refused');
});
