import type { ChatMessage, ParticipantInfo, Role } from '../signaling/protocol.ts';
import { chatParts, clockTime } from './chatText.ts';
import { upsertParticipant, type Participant, type RoomState } from './roomStore.ts';

/** How long a reaction shows over its sender's tile. */
export const REACTION_MS = 4000;
/** The chat keeps this many messages on the page (the server keeps 100 for late joiners). */
const CHAT_KEPT = 200;

/** A chat message arrives (or comes from the history): shown once, counted unread while the panel is closed. */
export function addChatMessage(state: RoomState, message: ChatMessage, fromHistory = false): void {
  if (state.chat.some((entry) => entry.id === message.id)) return;
  const entry = {
    id: message.id,
    userId: message.userId,
    name: message.userId === state.localUserId ? 'You' : message.userName,
    time: clockTime(message.sentAt),
    parts: chatParts(message.text),
    mine: message.userId === state.localUserId,
  };
  state.chat = [...state.chat, entry].slice(-CHAT_KEPT);
  if (!fromHistory && !entry.mine && state.panel !== 'chat') state.chatUnread++;
}

export function openPanel(state: RoomState, panel: RoomState['panel']): void {
  state.panel = state.panel === panel ? null : panel;
  if (state.panel === 'chat') state.chatUnread = 0;
}

export function setHand(state: RoomState, userId: string, raisedAt: number | null): void {
  upsertParticipant(state, userId, { handRaisedAt: raisedAt });
}

export function setRole(state: RoomState, userId: string, role: Role): void {
  upsertParticipant(state, userId, { role });
}

export function isHost(state: RoomState): boolean {
  return state.participants[state.localUserId]?.role === 'host';
}

/** Shows `emoji` over the sender's tile; returns a function that clears it (unless a newer one replaced it). */
export function showReaction(state: RoomState, userId: string, emoji: string): () => void {
  const participant = state.participants[userId];
  if (!participant) return () => {};
  participant.reaction = emoji;
  return () => {
    if (state.participants[userId] === participant && participant.reaction === emoji) participant.reaction = null;
  };
}

/** Raised hands first, in the order they went up; then everyone else in join order. */
export function peopleInOrder(state: RoomState): Participant[] {
  const people = state.order.map((id) => state.participants[id]).filter((p): p is Participant => p !== undefined);
  const raised = people.filter((p) => p.handRaisedAt !== null).sort((a, b) => a.handRaisedAt! - b.handRaisedAt!);
  return [...raised, ...people.filter((p) => p.handRaisedAt === null)];
}

export function setLobby(state: RoomState, waiting: ParticipantInfo[]): void {
  state.lobby = waiting.map(({ userId, userName }) => ({ userId, userName }));
}
