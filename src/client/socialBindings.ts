import { REACTIONS, type ReplyOf, type RequestName, type RequestOf } from '../signaling/protocol.ts';
import type { RoomStore } from './roomStore.ts';
import { isHost, openPanel, peopleInOrder } from './social.ts';

/** Where the bindings send requests (the page's Call). */
export interface Requester {
  request<E extends RequestName>(event: E, payload: RequestOf<E>): Promise<ReplyOf<E>>;
}

/** One row of the participant list, with everything its template shows (Alpine's CSP build cannot compute in templates). */
export interface PersonView {
  id: string;
  name: string;
  isHostRole: boolean;
  roleLabel: string;
  handUp: boolean;
  micLabel: string;
  cameraLabel: string;
  /** Host actions on this person (never on oneself). */
  canAct: boolean;
  canLowerHand: boolean;
  canStopShare: boolean;
  micOn: boolean;
  muteLabel: string;
  askLabel: string;
  lowerLabel: string;
  shareLabel: string;
  roleActionLabel: string;
  removeLabel: string;
}

const store = (component: unknown): RoomStore | undefined => (component as { state?: RoomStore }).state;

/**
 * The chat, the participant list, hands, reactions, host controls and the lobby: bindings of the
 * page's Alpine component, merged into it by room.ts. Requests go through `requester()` (the Call);
 * a refused one shows its reason as a notice.
 */
export function socialBindings(requester: () => Requester, notify: (text: string) => void) {
  const send = <E extends RequestName>(event: E, payload: RequestOf<E>) => requester().request(event, payload).catch((error: Error) => notify(`${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}.`));
  /** The person a row's button acts on (its data-user-id). */
  const target = (component: unknown) => ((component as { $el: HTMLElement }).$el.closest('[data-user-id]') as HTMLElement | null)?.dataset.userId ?? '';
  return {
    reactionsOpen: false,
    chatDraft: '',
    reactionChoices: REACTIONS.map((emoji) => ({ emoji, label: `React with ${emoji}` })),

    // ——— Panels ———
    get panelOpen() {
      return store(this)?.panel != null;
    },
    get chatPanel() {
      return store(this)?.panel === 'chat';
    },
    get peoplePanel() {
      return store(this)?.panel === 'people';
    },
    get panelLabel() {
      return this.chatPanel ? 'Chat' : 'Participants';
    },
    get chatPressed() {
      return this.chatPanel ? 'true' : 'false';
    },
    get peoplePressed() {
      return this.peoplePanel ? 'true' : 'false';
    },
    get chatUnread() {
      return store(this)?.chatUnread ?? 0;
    },
    get hasUnread() {
      return this.chatUnread > 0;
    },
    get chatLabel() {
      const unread = this.chatUnread;
      return unread > 0 ? `Chat, ${unread} unread` : 'Chat';
    },
    toggleChat() {
      const state = store(this);
      if (!state) return;
      openPanel(state, 'chat');
      if (state.panel === 'chat') (this as any).$nextTick(() => (this as any).$refs.chatInput?.focus());
    },
    togglePeople() {
      const state = store(this);
      if (state) openPanel(state, 'people');
    },
    closePanel() {
      const state = store(this);
      if (state) state.panel = null;
    },

    // ——— Chat ———
    get chatEntries() {
      return store(this)?.chat ?? [];
    },
    get chatEmpty() {
      return this.chatEntries.length === 0;
    },
    entryClass(this: any) {
      return this.entry.mine ? 'is-mine' : '';
    },
    onChatInput(this: any) {
      this.chatDraft = this.$event.target.value;
    },
    onChatKey(this: any) {
      const event: KeyboardEvent = this.$event;
      // Enter sends, Shift+Enter makes a new line (as in every chat).
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.sendChat();
      }
    },
    async sendChat(this: any) {
      const text = this.chatDraft.trim();
      if (!text) return;
      this.chatDraft = '';
      if (this.$refs.chatInput) this.$refs.chatInput.value = '';
      await send('sendChatMessage', { text });
    },
    scrollChat(this: any) {
      void this.chatEntries.length;
      const log: HTMLElement | undefined = this.$refs.chatLog;
      if (log) queueMicrotask(() => (log.scrollTop = log.scrollHeight));
    },

    // ——— Hands and reactions ———
    get handUp() {
      const state = store(this);
      return !!state && state.participants[state.localUserId]?.handRaisedAt != null;
    },
    get handPressed() {
      return this.handUp ? 'true' : 'false';
    },
    get handClass() {
      return this.handUp ? 'is-active' : '';
    },
    toggleHand() {
      void send('setHandRaised', { raised: !this.handUp });
    },
    get reactionsExpanded() {
      return this.reactionsOpen ? 'true' : 'false';
    },
    toggleReactions() {
      this.reactionsOpen = !this.reactionsOpen;
    },
    react(this: any) {
      this.reactionsOpen = false;
      void send('sendReaction', { emoji: this.$el.dataset.emoji });
    },

    // ——— Participants and host controls ———
    get amHost() {
      const state = store(this);
      return !!state && isHost(state);
    },
    get people(): PersonView[] {
      const state = store(this);
      if (!state) return [];
      const host = isHost(state);
      return peopleInOrder(state).map((p) => {
        const name = p.name || 'Guest';
        const self = p.isLocal;
        return {
          id: p.id,
          name: self ? `${name} (you)` : name,
          isHostRole: p.role === 'host',
          roleLabel: p.role === 'host' ? 'Host' : 'Guest',
          handUp: p.handRaisedAt !== null,
          micLabel: p.micMuted ? 'Microphone off' : 'Microphone on',
          cameraLabel: p.cameraOff ? 'Camera off' : 'Camera on',
          canAct: host && !self,
          canLowerHand: host && p.handRaisedAt !== null,
          canStopShare: host && !self && p.hasScreen,
          micOn: !p.micMuted,
          muteLabel: `Mute ${name}`,
          askLabel: `Ask ${name} to unmute`,
          lowerLabel: `Lower ${name}'s hand`,
          shareLabel: `Stop ${name}'s screen share`,
          roleActionLabel: p.role === 'host' ? `Make ${name} a guest` : `Make ${name} a host`,
          removeLabel: `Remove ${name}`,
        };
      });
    },
    hostMute(this: any) {
      void send('hostMuteParticipant', { userId: target(this) });
    },
    hostAskUnmute(this: any) {
      void send('hostAskToUnmute', { userId: target(this) });
    },
    hostLowerHand(this: any) {
      void send('hostLowerHand', { userId: target(this) });
    },
    hostStopShare(this: any) {
      void send('hostStopScreenShare', { userId: target(this) });
    },
    hostToggleRole(this: any) {
      const userId = target(this);
      const role = store(this)?.participants[userId]?.role === 'host' ? 'guest' : 'host';
      void send('setParticipantRole', { userId, role });
    },
    hostRemove(this: any) {
      const userId = target(this);
      const name = store(this)?.participants[userId]?.name || 'this person';
      if (window.confirm(`Remove ${name} from the call? They cannot rejoin for a few minutes.`)) void send('hostRemoveParticipant', { userId });
    },

    // ——— Lock and lobby ———
    get roomLocked() {
      return !!store(this)?.locked;
    },
    get lockPressed() {
      return this.roomLocked ? 'true' : 'false';
    },
    get lockLabel() {
      return this.roomLocked ? 'Unlock room' : 'Lock room';
    },
    toggleLock() {
      void send('setRoomLocked', { locked: !this.roomLocked });
    },
    get lobbyWaiting() {
      return (store(this)?.lobby ?? []).map((w) => ({ ...w, admitLabel: `Admit ${w.userName}`, denyLabel: `Deny ${w.userName}` }));
    },
    get hasLobby() {
      return this.amHost && this.lobbyWaiting.length > 0;
    },
    get lobbyCount() {
      return String(this.lobbyWaiting.length);
    },
    admit(this: any) {
      void send('admitParticipant', { userId: target(this) });
    },
    deny(this: any) {
      void send('denyParticipant', { userId: target(this) });
    },

    // ——— Being asked to unmute ———
    get unmuteAsked() {
      return !!store(this)?.unmuteAsked;
    },
    dismissUnmute() {
      const state = store(this);
      if (state) state.unmuteAsked = false;
    },
  };
}
