/**
 * Chat, hands, reactions, host controls and the lobby, against the real server: validation, authority
 * (a guest cannot act as a host, nobody reaches another room), rate limits, chat history bounds, and
 * the lock and admissions surviving a server restart with Redis.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Parley } from '../../src/app.ts';
import { hashHostKey, mintHostKey } from '../../src/auth/hostKeys.ts';
import type { ReplyOf } from '../../src/signaling/protocol.ts';
import { joinWithTransports, produceCamera, produceMic } from '../helpers/call.ts';
import { codeOf, connectClient, seated, type TestClient } from '../helpers/client.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

/** Mints a room with a host key, as POST /rooms does. */
async function mintHostedRoom(server: Parley, roomId: string): Promise<string> {
  const hostKey = mintHostKey();
  await server.store.registerRoom(roomId, { hostKeyHash: hashHostKey(hostKey) });
  return hostKey;
}

async function join(server: Parley, roomId: string, userName: string, extra: { hostKey?: string; userId?: string } = {}): Promise<{ client: TestClient; reply: ReplyOf<'joinRoom'> }> {
  const client = await connectClient(server.url, extra.userId);
  const reply = await client.ok('joinRoom', { roomId, userId: client.userId, userName, ...(extra.hostKey ? { hostKey: extra.hostKey } : {}) });
  return { client, reply };
}

describe('call features', () => {
  let server: Parley;
  const clients: TestClient[] = [];
  const joinAs = async (roomId: string, name: string, extra: { hostKey?: string; userId?: string } = {}) => {
    const joined = await join(server, roomId, name, extra);
    clients.push(joined.client);
    return joined;
  };
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    clients.forEach((c) => c.close());
    await server.close();
  });

  test('chat: everyone gets each message with who sent it and when; text is checked, not rendered', async () => {
    const roomId = 'chat-room';
    await server.store.registerRoom(roomId);
    const { client: alice } = await joinAs(roomId, 'Alice');
    const { client: bob } = await joinAs(roomId, 'Bob');
    const hostile = '<img src=x onerror=alert(1)> **bold** [link](javascript:alert(1))';
    assert.deepEqual(await alice.ok('sendChatMessage', { text: `  ${hostile}  ` }), {});
    await waitFor(() => bob.received('chatMessage').length === 1 && alice.received('chatMessage').length === 1, { what: 'the message, to both' });
    const message = bob.received('chatMessage')[0]!;
    assert.equal(message.text, hostile, 'stored and sent as the very text (trimmed), for the page to show as text');
    assert.equal(message.userId, alice.userId);
    assert.equal(message.userName, 'Alice');
    assert.ok(Math.abs(message.sentAt - Date.now()) < 10_000);
    assert.deepEqual(alice.received('chatMessage')[0], message, 'the sender gets the same message');

    for (const [text, why] of [['', /empty/], ['   \n ', /empty/], ['x'.repeat(1001), /at most 1000/], ['a\u0000b', /control/], ['\u202eevil', /control/]] as const) {
      const reply = await alice.request('sendChatMessage', { text });
      assert.equal(codeOf(reply), 'invalid_payload', JSON.stringify(text));
      assert.match((reply as { error: string }).error, why);
    }
    assert.deepEqual(await alice.ok('sendChatMessage', { text: 'two\nlines é 😀' }), {});
    const { messages } = await bob.ok('getChatHistory', {});
    assert.deepEqual(messages.map((m) => m.text), [hostile, 'two\nlines é 😀']);
  });

  test('chat: a late joiner sees the last 100 messages; a burst is rate limited; the history goes with the call', async () => {
    const roomId = 'chat-history';
    await server.store.registerRoom(roomId);
    const { client: alice } = await joinAs(roomId, 'Alice');
    // Past the sender's budget the server says so, and nothing is kept.
    const replies = await Promise.all(Array.from({ length: 14 }, (_, i) => alice.request('sendChatMessage', { text: `burst ${i}` })));
    const limited = replies.filter((r) => codeOf(r) === 'rate_limited').length;
    assert.ok(limited >= 3, `${limited} of 14 rate limited`);
    assert.equal((await alice.ok('getChatHistory', {})).messages.length, 14 - limited);
    // More than 100 (from several senders, within their budgets): only the last 100 are kept.
    for (let i = 0; i < 110; i++) await server.store.appendChat(roomId, { id: `m${i}`, userId: alice.userId, userName: 'Alice', text: `m${i}`, sentAt: Date.now() });
    const { client: late } = await joinAs(roomId, 'Late');
    const { messages } = await late.ok('getChatHistory', {});
    assert.equal(messages.length, 100);
    assert.equal(messages[0]!.text, 'm10');
    assert.equal(messages.at(-1)!.text, 'm109');
    // Everyone leaves, the call ends: its history is gone with it.
    alice.close();
    late.close();
    await waitFor(() => server.registry.get(roomId) === undefined, { what: 'the empty call to close' });
    await waitFor(async () => (await server.store.chatHistory(roomId)).length === 0, { what: 'the history to be forgotten' });
  });

  test('hands and reactions reach everyone; reactions are a fixed set and rate limited', async () => {
    const roomId = 'hands-room';
    const hostKey = await mintHostedRoom(server, roomId);
    const { client: host } = await joinAs(roomId, 'Host', { hostKey });
    const { client: a } = await joinAs(roomId, 'A');
    const { client: b } = await joinAs(roomId, 'B');
    await a.ok('setHandRaised', { raised: true });
    await b.ok('setHandRaised', { raised: true });
    await waitFor(() => host.received('handRaised').length === 2, { what: 'two hands' });
    const [first, second] = host.received('handRaised');
    assert.deepEqual([first!.userId, second!.userId, first!.raised], [a.userId, b.userId, true]);
    assert.ok(first!.raisedAt! <= second!.raisedAt!, 'ordered by the time raised');
    // A late joiner learns of raised hands before its join reply.
    const { client: late } = await joinAs(roomId, 'Late');
    assert.deepEqual(late.received('handRaised').map((h) => h.userId), [a.userId, b.userId]);
    // Only a host lowers someone else's hand.
    assert.equal(codeOf(await b.request('hostLowerHand', { userId: a.userId })), 'forbidden');
    await host.ok('hostLowerHand', { userId: a.userId });
    await waitFor(() => b.received('handRaised').some((h) => h.userId === a.userId && !h.raised), { what: 'A’s hand lowered' });
    assert.equal(server.registry.get(roomId)!.peers.get(a.userId)!.handRaisedAt, null);

    await a.ok('sendReaction', { emoji: '🎉' });
    await waitFor(() => b.received('reaction').length === 1, { what: 'the reaction' });
    assert.deepEqual(b.received('reaction')[0], { userId: a.userId, emoji: '🎉' });
    for (const emoji of ['💩', '<b>', '']) assert.equal(codeOf(await a.request('sendReaction', { emoji })), 'invalid_payload');
    const burst = await Promise.all(Array.from({ length: 15 }, () => a.request('sendReaction', { emoji: '👍' })));
    assert.ok(burst.some((r) => codeOf(r) === 'rate_limited'), 'a burst of reactions is rate limited');
  });

  test('host controls: refused to guests, checked against the caller’s own room, and they act', async () => {
    const roomId = 'host-room';
    const hostKey = await mintHostedRoom(server, roomId);
    const { client: host } = await joinAs(roomId, 'Host', { hostKey });
    const { client: guest } = await joinAs(roomId, 'Guest');
    const { client: victim } = await joinAs(roomId, 'Victim');
    assert.deepEqual(host.received('roleChanged').map((r) => [r.userId, r.role]), [[host.userId, 'host']], 'the host learns its role before its reply');
    assert.deepEqual(guest.received('roleChanged').map((r) => [r.userId, r.role]), [[host.userId, 'host']], 'a joiner learns who hosts');
    // A wrong host key is just a guest.
    const { client: pretender } = await joinAs(roomId, 'Pretender', { hostKey: mintHostKey() });
    assert.equal(server.registry.get(roomId)!.peers.get(pretender.userId)!.role, 'guest');

    for (const [event, payload] of [
      ['hostMuteParticipant', { userId: victim.userId }],
      ['hostAskToUnmute', { userId: victim.userId }],
      ['hostStopScreenShare', { userId: victim.userId }],
      ['hostRemoveParticipant', { userId: victim.userId }],
      ['hostLowerHand', { userId: victim.userId }],
      ['setRoomLocked', { locked: true }],
      ['admitParticipant', { userId: victim.userId }],
      ['denyParticipant', { userId: victim.userId }],
      ['setParticipantRole', { userId: guest.userId, role: 'host' }],
    ] as const) {
      const reply = await guest.request(event, payload as never);
      assert.equal(codeOf(reply), 'forbidden', `${event}: ${JSON.stringify(reply)}`);
    }
    assert.ok(server.registry.get(roomId)!.peers.has(victim.userId), 'nothing happened');
    assert.equal(server.registry.get(roomId)!.locked, false);

    // A host of another room reaches nobody here.
    const otherKey = await mintHostedRoom(server, 'host-other-room');
    const { client: otherHost } = await joinAs('host-other-room', 'Other host', { hostKey: otherKey });
    assert.equal(codeOf(await otherHost.request('hostRemoveParticipant', { userId: victim.userId })), 'not_found');
    assert.equal(codeOf(await otherHost.request('hostMuteParticipant', { userId: victim.userId })), 'not_found');

    // Ask to unmute: the person is asked, nothing more.
    await host.ok('hostAskToUnmute', { userId: victim.userId });
    await waitFor(() => victim.received('unmuteRequested').length === 1, { what: 'the unmute request' });

    // Make the guest a host: everyone hears it, and now it may act.
    await host.ok('setParticipantRole', { userId: guest.userId, role: 'host' });
    await waitFor(() => victim.received('roleChanged').some((r) => r.userId === guest.userId && r.role === 'host'), { what: 'roleChanged' });
    await guest.ok('hostLowerHand', { userId: victim.userId });

    // Remove: the person is told why and cannot come back for a while.
    await guest.ok('hostRemoveParticipant', { userId: victim.userId, reason: 'Be nice' });
    await waitFor(() => victim.received('removedFromRoom').length === 1, { what: 'removedFromRoom' });
    assert.deepEqual(victim.received('removedFromRoom')[0], { reason: 'Be nice' });
    await waitFor(() => !server.registry.get(roomId)!.peers.has(victim.userId), { what: 'the seat to close' });
    const again = await connectClient(server.url, victim.userId);
    clients.push(again);
    assert.equal(codeOf(await again.request('joinRoom', { roomId, userId: victim.userId, userName: 'Victim' })), 'removed');
    assert.equal(codeOf(await host.request('hostRemoveParticipant', { userId: host.userId })), 'invalid_request', 'a host leaves, not removes itself');
  });

  test('host mute pauses the microphone (its owner is told too); stopping a share closes it', async () => {
    const roomId = 'host-media';
    const hostKey = await mintHostedRoom(server, roomId);
    const { client: host } = await joinAs(roomId, 'Host', { hostKey });
    const speaker = await joinWithTransports(server, roomId, 'Speaker');
    clients.push(speaker);
    const mic = await produceMic(speaker);
    const screen = await produceCamera(speaker, { type: 'screen' });
    await host.ok('hostMuteParticipant', { userId: speaker.userId });
    const producers = server.registry.get(roomId)!.peers.get(speaker.userId)!.producers;
    assert.equal(producers.get(mic)!.paused, true);
    await waitFor(() => speaker.received('producerPaused').some((p) => p.producerId === mic), { what: 'the owner to hear its mic was paused' });
    await waitFor(() => host.received('producerPaused').some((p) => p.producerId === mic), { what: 'the others to hear it' });
    // They may unmute themselves.
    await speaker.ok('resumeProducer', { producerId: mic });
    assert.equal(producers.get(mic)!.paused, false);

    await host.ok('hostStopScreenShare', { userId: speaker.userId });
    assert.equal(producers.has(screen), false);
    assert.equal(producers.has(mic), true, 'only the screen');
    await waitFor(() => speaker.received('producerClosed').some((p) => p.producerId === screen), { what: 'the owner to hear its share was stopped' });
  });

  test('lock and lobby: a new guest waits, nothing works meanwhile; the host admits or denies', async () => {
    const roomId = 'lobby-room';
    const hostKey = await mintHostedRoom(server, roomId);
    const { client: host } = await joinAs(roomId, 'Host', { hostKey });
    const { client: early } = await joinAs(roomId, 'Early');
    await host.ok('setRoomLocked', { locked: true });
    await waitFor(() => early.received('roomLocked').length === 1, { what: 'roomLocked' });

    const { client: knock, reply } = await joinAs(roomId, 'Knock');
    assert.deepEqual(reply, { lobby: true });
    assert.equal(server.registry.get(roomId)!.peers.has(knock.userId), false, 'no seat while waiting');
    assert.equal(codeOf(await knock.request('getProducers', { roomId })), 'not_joined');
    assert.equal(codeOf(await knock.request('sendChatMessage', { text: 'let me in' })), 'not_joined');
    await waitFor(() => host.received('lobbyChanged').at(-1)?.waiting.length === 1, { what: 'the host to see the lobby' });
    assert.deepEqual(host.received('lobbyChanged').at(-1)!.waiting, [{ userId: knock.userId, userName: 'Knock' }]);
    assert.equal(early.received('lobbyChanged').length, 0, 'guests do not see the lobby');

    await host.ok('admitParticipant', { userId: knock.userId });
    await waitFor(() => knock.received('admitted').length === 1, { what: 'admitted' });
    const joined = seated(await knock.ok('joinRoom', { roomId, userId: knock.userId, userName: 'Knock' }));
    assert.equal(joined.participants.length, 2);
    assert.deepEqual(knock.received('roomLocked'), [{ locked: true }], 'the joiner learns the room is locked');

    const { client: denied, reply: deniedReply } = await joinAs(roomId, 'Nope');
    assert.deepEqual(deniedReply, { lobby: true });
    assert.equal(codeOf(await host.request('admitParticipant', { userId: 'nobody-waits' })), 'not_found');
    await host.ok('denyParticipant', { userId: denied.userId });
    await waitFor(() => denied.received('denied').length === 1, { what: 'denied' });
    assert.equal(server.registry.get(roomId)!.lobby.size, 0);

    // A waiting socket that goes away leaves the lobby; unlocking lets everyone waiting in.
    const { client: gone } = await joinAs(roomId, 'Gone');
    const { client: patient } = await joinAs(roomId, 'Patient');
    gone.close();
    await waitFor(() => host.received('lobbyChanged').at(-1)?.waiting.length === 1, { what: 'the closed socket to leave the lobby' });
    await host.ok('setRoomLocked', { locked: false });
    await waitFor(() => patient.received('admitted').length === 1, { what: 'unlock admits the waiting' });
    seated(await patient.ok('joinRoom', { roomId, userId: patient.userId, userName: 'Patient' }));
  });
});

describe('the lock survives a restart with Redis', () => {
  let redis: RedisHandle;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  test('after a restart: hosts and admitted guests come back in, a new guest waits', async () => {
    const roomId = 'restart-lobby';
    let server = await startTestServer({ redisUrl: redis.url });
    const hostKey = await mintHostedRoom(server, roomId);
    const host = await join(server, roomId, 'Host', { hostKey });
    const guest = await join(server, roomId, 'Guest');
    await host.client.ok('setRoomLocked', { locked: true });
    const knock = await join(server, roomId, 'Knock');
    assert.deepEqual(knock.reply, { lobby: true });
    await host.client.ok('admitParticipant', { userId: knock.client.userId });
    await host.client.ok('sendChatMessage', { text: 'before the restart' });
    for (const c of [host, guest, knock]) c.client.close();
    await server.close();

    server = await startTestServer({ redisUrl: redis.url });
    try {
      const ids = { host: host.client.userId, guest: guest.client.userId, knock: knock.client.userId };
      const hostAgain = await join(server, roomId, 'Host', { hostKey, userId: ids.host });
      assert.ok('participants' in hostAgain.reply);
      const guestAgain = await join(server, roomId, 'Guest', { userId: ids.guest });
      assert.ok('participants' in guestAgain.reply, 'seated when locking: comes straight back');
      const knockAgain = await join(server, roomId, 'Knock', { userId: ids.knock });
      assert.ok('participants' in knockAgain.reply, 'admitted before: comes straight back');
      const stranger = await join(server, roomId, 'Stranger');
      assert.deepEqual(stranger.reply, { lobby: true }, 'still locked');
      assert.deepEqual((await guestAgain.client.ok('getChatHistory', {})).messages.map((m) => m.text), ['before the restart']);
      for (const c of [hostAgain, guestAgain, knockAgain, stranger]) c.client.close();
    } finally {
      await server.close();
    }
  });
});
