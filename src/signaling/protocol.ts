/**
 * The signaling protocol, shared by the server and the browser media module: the request and event
 * maps, and two constant lists (request names, error codes). The browser bundle imports it for free.
 * Runtime validation lives in schemas.ts and is checked against these types at compile time
 * (test/server/protocol.types.test.ts).
 */
import type { types } from 'mediasoup';

export type RtpCapabilities = types.RtpCapabilities;
export type RtpParameters = types.RtpParameters;
export type DtlsParameters = types.DtlsParameters;
export type IceParameters = types.IceParameters;
export type IceCandidate = types.IceCandidate;
/** A TURN relay for RTCConfiguration.iceServers, with time-limited credentials (see src/auth/turnCredentials.ts). */
export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}
export type MediaKind = 'audio' | 'video';
export type AppData = Record<string, unknown>;

/**
 * Why a request was refused. The code is what a client acts on; `error` next to it is an English
 * sentence for logs and for clients that predate the codes. README "Error codes" says what each means
 * and what a client should do about it.
 */
export const ERROR_CODES = [
  'invalid_payload',
  'unknown_request',
  'invalid_request',
  'not_joined',
  'already_joined',
  'seat_taken',
  'room_not_found',
  'room_gone',
  'room_closing',
  'password_required',
  'password_wrong',
  'token_required',
  'token_invalid',
  'token_expired',
  'rate_limited',
  'limit_reached',
  'not_found',
  'media_rejected',
  'unavailable',
  'internal',
  'removed',
  'forbidden',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Every acknowledgement is either the result or an error, exactly once. */
export type ErrorReply = { error: string; code: ErrorCode };
export type Reply<T> = T | ErrorReply;
export type Ack<T> = (reply: Reply<T>) => void;

export type Role = 'host' | 'guest';

export interface ParticipantInfo {
  userId: string;
  userName: string;
}

/** One chat message, as everyone in the room gets it (text only: never rendered as HTML). */
export interface ChatMessage {
  id: string;
  userId: string;
  userName: string;
  text: string;
  sentAt: number;
}

/** The fixed set of reactions (anything else is refused). */
export const REACTIONS = ['👍', '👏', '😂', '❤️', '🎉', '😮'] as const;
export type Reaction = (typeof REACTIONS)[number];

export interface ProducerInfo {
  producerId: string;
  userId: string;
  kind: MediaKind;
  appData: AppData;
}

export interface Requests {
  joinRoom: {
    request: {
      roomId: string;
      userId: string;
      userName: string;
      /** The secret a previous join of this userId got back: takes that seat over (reconnect). */
      reclaimSecret?: string;
      /** Needed when the room was created with a password. */
      password?: string;
      /** Signed room token, required when the server has AUTH_SECRET. */
      token?: string;
      /** The host credential the room's creator got with it: joins as a host. */
      hostKey?: string;
      /** Video codecs this client can decode (mime types, e.g. ["video/VP8", "video/H264"]): the room sends in one everyone can. */
      videoCodecs?: string[];
    };
    /**
     * Only the others in the room. What else the joiner needs comes just before the reply, as events
     * to it alone: `seat` (its reclaim secret), `roleChanged` for each host (itself included),
     * `handRaised` for each raised hand, `roomLocked` when locked. In a locked room a guest not
     * admitted yet gets `{lobby: true}` instead and waits for `admitted` (then joins again) or
     * `denied`; nothing else works meanwhile.
     */
    reply: { participants: ParticipantInfo[] } | { lobby: true };
  };
  /**
   * The connectivity check: a private, short-lived room of one, made by the server (no token, no
   * password, no join budget). The reply's roomId then works like a joined room's for
   * getRouterRtpCapabilities, createWebRtcTransport, connectWebRtcTransport and produce.
   */
  joinProbe: { request: Record<string, never>; reply: { roomId: string; expiresInMs: number } };
  leaveRoom: { request: { roomId: string; userId: string }; reply: Record<string, never> };
  getRouterRtpCapabilities: { request: { roomId: string }; reply: { rtpCapabilities: RtpCapabilities } };
  createWebRtcTransport: {
    /** Either flag may be left out (false); with neither set the transport may both produce and consume. */
    request: { roomId: string; producing?: boolean; consuming?: boolean };
    /** `iceServers`: only when the server offers a TURN relay (TURN_SECRET); fresh credentials each time. */
    reply: { id: string; iceParameters: IceParameters; iceCandidates: IceCandidate[]; dtlsParameters: DtlsParameters; iceServers?: IceServer[] };
  };
  connectWebRtcTransport: { request: { transportId: string; dtlsParameters: DtlsParameters }; reply: Record<string, never> };
  produce: {
    request: { transportId: string; kind: MediaKind; rtpParameters: RtpParameters; appData?: AppData };
    reply: { producerId: string };
  };
  consume: {
    request: { producerId: string; rtpCapabilities: RtpCapabilities; transportId?: string };
    reply: {
      id: string;
      producerId: string;
      kind: MediaKind;
      rtpParameters: RtpParameters;
      appData: AppData;
      userId: string;
    };
  };
  resumeConsumer: { request: { consumerId: string }; reply: Record<string, never> };
  /** `iceServers` (with TURN): renewed credentials, for the browser's updateIceServers before it restarts. */
  restartIce: { request: { transportId: string }; reply: { iceParameters: IceParameters; iceServers?: IceServer[] } };
  /**
   * The caller closes one of its own producers. It shares its name with the `producerClosed` event
   * (someone else's producer ended) on purpose: both mean "this producer is gone", and the names
   * predate this code base, so existing clients keep working.
   */
  producerClosed: { request: { producerId: string }; reply: Record<string, never> };
  pauseProducer: { request: { producerId: string }; reply: Record<string, never> };
  resumeProducer: { request: { producerId: string }; reply: Record<string, never> };
  getProducers: { request: { roomId: string }; reply: { producers: ProducerInfo[] } };
  /**
   * What a receiver tells the server about one of its own consumers, so each tile gets what it needs
   * and no more: pause one it does not show (hidden tile, other grid page, background tab; resume it
   * with resumeConsumer), the simulcast/SVC layers that suit the tile's size (the server goes lower
   * when the network says so; the layers must exist: spatialLayer < the producer's spatial layers), its
   * share of the bandwidth against the others (1–255, higher first: screen share, spotlight), and a
   * key frame now (a video that must show at once).
   */
  pauseConsumer: { request: { consumerId: string }; reply: Record<string, never> };
  setConsumerPreferredLayers: { request: { consumerId: string; spatialLayer: number; temporalLayer?: number }; reply: Record<string, never> };
  setConsumerPriority: { request: { consumerId: string; priority: number }; reply: Record<string, never> };
  requestConsumerKeyFrame: { request: { consumerId: string }; reply: Record<string, never> };
  // ——— Call features (everyone) ———
  sendChatMessage: { request: { text: string }; reply: Record<string, never> };
  /** The room's recent messages (the last 100), oldest first. */
  getChatHistory: { request: Record<string, never>; reply: { messages: ChatMessage[] } };
  setHandRaised: { request: { raised: boolean }; reply: Record<string, never> };
  sendReaction: { request: { emoji: string }; reply: Record<string, never> };
  // ——— Host controls (a guest gets `forbidden`; targets are looked up in the caller's own room) ———
  /** Pauses their microphone on the server; they may unmute themselves. */
  hostMuteParticipant: { request: { userId: string }; reply: Record<string, never> };
  /** Asks them to unmute (they get `unmuteRequested` and decide). */
  hostAskToUnmute: { request: { userId: string }; reply: Record<string, never> };
  hostStopScreenShare: { request: { userId: string }; reply: Record<string, never> };
  /** They get `removedFromRoom {reason}` and cannot rejoin this room for a few minutes. */
  hostRemoveParticipant: { request: { userId: string; reason?: string }; reply: Record<string, never> };
  hostLowerHand: { request: { userId: string }; reply: Record<string, never> };
  setRoomLocked: { request: { locked: boolean }; reply: Record<string, never> };
  admitParticipant: { request: { userId: string }; reply: Record<string, never> };
  denyParticipant: { request: { userId: string }; reply: Record<string, never> };
  setParticipantRole: { request: { userId: string; role: Role }; reply: Record<string, never> };
}

export type RequestName = keyof Requests;
export type RequestOf<E extends RequestName> = Requests[E]['request'];
export type ReplyOf<E extends RequestName> = Requests[E]['reply'];

export type ClientToServerEvents = {
  [E in RequestName]: (payload: RequestOf<E>, ack: Ack<ReplyOf<E>>) => void;
};

export interface ServerToClientEvents {
  userJoined: (payload: ParticipantInfo) => void;
  userLeft: (payload: { userId: string }) => void;
  newProducer: (payload: ProducerInfo) => void;
  /** Another participant's producer ended (same name as the request on purpose; see Requests). */
  producerClosed: (payload: { producerId: string }) => void;
  /**
   * Sent to the joiner alone, just before its joinRoom reply: the secret that lets its next connection
   * take this seat over after a network drop (joinRoom's reclaimSecret).
   */
  seat: (payload: { roomId: string; userId: string; reclaimSecret: string }) => void;
  /** Also sent to a getProducers caller, before the reply, for each listed producer that is paused. */
  producerPaused: (payload: { producerId: string; userId: string }) => void;
  producerResumed: (payload: { producerId: string; userId: string }) => void;
  /** The room's media server went away; join again (a fresh room is made). */
  roomClosed: (payload: { roomId: string; reason: 'worker-died' | 'shutdown' }) => void;
  /**
   * An operator (admin page) or the application (server API) removed this participant, or ended the
   * call for everyone; the server disconnects the socket right after. A rejoin is refused with code
   * `removed` for a few minutes: do not reconnect, show `reason`.
   */
  removedFromRoom: (payload: { reason: string }) => void;
  /** To everyone in the room: who speaks now (the room's dominant speaker), null once nobody does. */
  activeSpeaker: (payload: { userId: string | null }) => void;
  /** To a receiver: the layers one of its consumers now gets (null when it gets none, e.g. paused). */
  consumerLayersChanged: (payload: { consumerId: string; spatialLayer: number | null; temporalLayer: number | null }) => void;
  /** To a receiver: how well one of its consumers is sent (0–10) and how well its producer sends. */
  consumerScore: (payload: { consumerId: string; score: number; producerScore: number }) => void;
  /** To everyone in the room (the sender too), for each accepted sendChatMessage. */
  chatMessage: (payload: ChatMessage) => void;
  handRaised: (payload: { userId: string; raised: boolean; raisedAt: number | null }) => void;
  reaction: (payload: { userId: string; emoji: string }) => void;
  roomLocked: (payload: { locked: boolean }) => void;
  /** To hosts only: who waits in the lobby now. */
  lobbyChanged: (payload: { waiting: ParticipantInfo[] }) => void;
  roleChanged: (payload: { userId: string; role: Role }) => void;
  /** To one waiting in the lobby: let in (send joinRoom again) … */
  admitted: (payload: Record<string, never>) => void;
  /** … or not. */
  denied: (payload: Record<string, never>) => void;
  /** A host asks this participant to unmute. */
  unmuteRequested: (payload: Record<string, never>) => void;
  /**
   * The codec to send video in, one everyone in the room can decode (VP8 unless someone cannot, e.g.
   * an H.264-only device). To a joiner before its reply, and to everyone when it changes: a camera in
   * another codec is sent again in this one.
   */
  videoCodec: (payload: { mimeType: string }) => void;
}

export const REQUEST_NAMES = [
  'joinRoom',
  'joinProbe',
  'leaveRoom',
  'getRouterRtpCapabilities',
  'createWebRtcTransport',
  'connectWebRtcTransport',
  'produce',
  'consume',
  'resumeConsumer',
  'restartIce',
  'producerClosed',
  'pauseProducer',
  'resumeProducer',
  'getProducers',
  'pauseConsumer',
  'setConsumerPreferredLayers',
  'setConsumerPriority',
  'requestConsumerKeyFrame',
  'sendChatMessage',
  'getChatHistory',
  'setHandRaised',
  'sendReaction',
  'hostMuteParticipant',
  'hostAskToUnmute',
  'hostStopScreenShare',
  'hostRemoveParticipant',
  'hostLowerHand',
  'setRoomLocked',
  'admitParticipant',
  'denyParticipant',
  'setParticipantRole',
] as const satisfies readonly RequestName[];
