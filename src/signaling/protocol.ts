/**
 * The signaling contract, shared by the server and the browser media module. Types only: nothing
 * here runs, so the browser bundle can import it for free. Runtime validation lives in schemas.ts and
 * is checked against these types at compile time (test/server/protocol.types.test.ts).
 */
import type { types } from 'mediasoup';

export type RtpCapabilities = types.RtpCapabilities;
export type RtpParameters = types.RtpParameters;
export type DtlsParameters = types.DtlsParameters;
export type IceParameters = types.IceParameters;
export type IceCandidate = types.IceCandidate;
export type MediaKind = 'audio' | 'video';
export type AppData = Record<string, unknown>;

/** Every acknowledgement is either the result or an error message, exactly once. */
export type ErrorReply = { error: string };
export type Reply<T> = T | ErrorReply;
export type Ack<T> = (reply: Reply<T>) => void;

export interface ParticipantInfo {
  userId: string;
  userName: string;
}

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
    };
    /** Exactly the contract's shape; the seat's reclaim secret comes just before it, as a `seat` event. */
    reply: { participants: ParticipantInfo[] };
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
    reply: { id: string; iceParameters: IceParameters; iceCandidates: IceCandidate[]; dtlsParameters: DtlsParameters };
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
  restartIce: { request: { transportId: string }; reply: { iceParameters: IceParameters } };
  producerClosed: { request: { producerId: string }; reply: Record<string, never> };
  pauseProducer: { request: { producerId: string }; reply: Record<string, never> };
  resumeProducer: { request: { producerId: string }; reply: Record<string, never> };
  getProducers: { request: { roomId: string }; reply: { producers: ProducerInfo[] } };
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
] as const satisfies readonly RequestName[];
