import crypto from 'node:crypto';
import type { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import type { Handlers, RequestContext } from './context.ts';
import { stored, UserError } from './errors.ts';

/** The caller's seat in a call (a connectivity check has no chat, hands or hosts). */
export function inCall(ctx: RequestContext): { peer: Peer; room: Room } {
  const joined = ctx.session.joined();
  if (joined.room.policy.kind !== 'call') throw new UserError('invalid_request', 'not available in a connection check');
  return joined;
}

function spend(peer: Peer, budget: keyof Peer['budgets'], what: string): void {
  if (!peer.budgets[budget].take()) throw new UserError('rate_limited', `too many ${what}: wait a few seconds`);
}

/** Chat, hands and reactions: what every participant may do. Everyone in the room hears of it, the caller too. */
export const callHandlers: Handlers<'sendChatMessage' | 'getChatHistory' | 'setHandRaised' | 'sendReaction'> = {
  async sendChatMessage(ctx, { text }) {
    const { peer, room } = inCall(ctx);
    spend(peer, 'chat', 'messages');
    const message = { id: crypto.randomUUID(), userId: peer.userId, userName: peer.userName, text, sentAt: Date.now() };
    await stored(() => ctx.services.store.appendChat(room.id, message));
    room.chat(message);
    return {};
  },

  async getChatHistory(ctx) {
    const { room } = inCall(ctx);
    return { messages: await stored(() => ctx.services.store.chatHistory(room.id)) };
  },

  async setHandRaised(ctx, { raised }) {
    const { peer, room } = inCall(ctx);
    spend(peer, 'hand', 'hand raises');
    room.setHandRaised(peer, raised);
    return {};
  },

  async sendReaction(ctx, { emoji }) {
    const { peer, room } = inCall(ctx);
    spend(peer, 'reaction', 'reactions');
    room.react(peer, emoji);
    return {};
  },
};
