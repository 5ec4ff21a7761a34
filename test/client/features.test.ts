import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatParts, safeHref } from '../../src/client/chatText.ts';
import { qualityOfScores, qualityOfUplink } from '../../src/client/quality.ts';
import { createRoomState, upsertParticipant } from '../../src/client/roomStore.ts';
import { shortcutFor } from '../../src/client/shortcuts.ts';
import { addChatMessage, openPanel, peopleInOrder, showReaction } from '../../src/client/social.ts';

test('chat text: only http(s) addresses become links; everything else stays text', () => {
  assert.deepEqual(chatParts('see https://example.org/a?b=1. ok'), [
    { text: 'see ', href: null, isText: true },
    { text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1', isText: false },
    { text: '. ok', href: null, isText: true },
  ]);
  for (const text of ['javascript:alert(1)', '<a href="javascript:x">y</a>', 'data:text/html,<b>x</b>', '[x](javascript:alert(1))', 'ftp://example.org']) {
    assert.ok(chatParts(text).every((part) => part.href === null), text);
  }
  assert.equal(safeHref('javascript:alert(1)'), null);
  assert.equal(safeHref('https://a.example/"onmouseover="x'), 'https://a.example/%22onmouseover=%22x');
  assert.deepEqual(chatParts(''), []);
});

test('chat: unread counts only what others said while the panel was closed; duplicates are dropped', () => {
  const state = createRoomState('r', 'me');
  const message = (id: string, userId: string) => ({ id, userId, userName: userId, text: id, sentAt: 0 });
  addChatMessage(state, message('1', 'a'));
  addChatMessage(state, message('2', 'me'));
  addChatMessage(state, message('1', 'a'));
  assert.equal(state.chat.length, 2);
  assert.equal(state.chatUnread, 1);
  assert.equal(state.chat[1]!.name, 'You');
  openPanel(state, 'chat');
  assert.equal(state.chatUnread, 0);
  addChatMessage(state, message('3', 'a'));
  assert.equal(state.chatUnread, 0, 'read as it comes while the panel is open');
  addChatMessage(state, message('4', 'a'), true);
  openPanel(state, 'chat');
  assert.equal(state.panel, null);
});

test('people: raised hands first, in the order raised', () => {
  const state = createRoomState('r', 'me');
  for (const id of ['me', 'a', 'b', 'c']) upsertParticipant(state, id, { name: id });
  upsertParticipant(state, 'c', { handRaisedAt: 100 });
  upsertParticipant(state, 'a', { handRaisedAt: 200 });
  assert.deepEqual(peopleInOrder(state).map((p) => p.id), ['c', 'a', 'me', 'b']);
});

test('a reaction shows until cleared, and a newer one is not cleared by an older timer', () => {
  const state = createRoomState('r', 'me');
  upsertParticipant(state, 'a', { name: 'a' });
  const clearFirst = showReaction(state, 'a', '👍');
  showReaction(state, 'a', '🎉');
  clearFirst();
  assert.equal(state.participants.a!.reaction, '🎉');
});

test('shortcuts: one key without modifiers, never while typing', () => {
  const key = (k: string, extra: Partial<KeyboardEvent> = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, repeat: false, target: null, ...extra });
  assert.equal(shortcutFor(key('m')), 'toggleMic');
  assert.equal(shortcutFor(key('M')), 'toggleMic');
  assert.equal(shortcutFor(key('?')), 'toggleHelp');
  assert.equal(shortcutFor(key('m', { ctrlKey: true })), undefined);
  assert.equal(shortcutFor(key('x')), undefined);
  const field = { closest: (selector: string) => (selector.includes('textarea') ? {} : null), isContentEditable: false } as unknown as EventTarget;
  assert.equal(shortcutFor(key('m', { target: field })), undefined);
});

test('connection quality from scores and from our own sending stats', () => {
  assert.equal(qualityOfScores(10, 10), 'good');
  assert.equal(qualityOfScores(10, 5), 'fair', 'the weaker side counts');
  assert.equal(qualityOfScores(2, 10), 'poor');
  assert.equal(qualityOfUplink(0, undefined, 0.02), 'good');
  assert.equal(qualityOfUplink(0, 'bandwidth', 0.02), 'fair');
  assert.equal(qualityOfUplink(0.2, undefined, 0.02), 'poor');
});
