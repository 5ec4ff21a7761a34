import type { Device } from 'mediasoup-client';
import type { ErrorCode, ReplyOf, RequestName, RequestOf, RtpCapabilities } from '../signaling/protocol.ts';
import { afterJoinFailure, type JoinAdmission } from './admission.ts';
import { CallView } from './callView.ts';
import { loadDevice } from './device.ts';
import { LocalControls } from './LocalControls.ts';
import type { LocalTracks } from './localMedia.ts';
import { mark } from './marks.ts';
import { MediaSession, type RelayHooks, type SessionStats } from './MediaSession.ts';
import { failureCode, SignalingClient } from './SignalingClient.ts';
import { upsertParticipant, type RoomState } from './roomStore.ts';
import { qualityOfScores, qualityOfUplink } from './quality.ts';
import type { TileNeeds } from './videoDemand.ts';

const UPLINK_CHECK_MS = 3000;

/** The video codecs a loaded device can receive (no RTX, RED or FEC). */
function decodableVideo(device: Device): string[] {
  const codecs = device.recvRtpCapabilities.codecs ?? [];
  return [...new Set(codecs.filter((c) => c.kind === 'video' && !/\/(rtx|red|ulpfec|flexfec)/i.test(c.mimeType)).map((c) => c.mimeType))];
}

const PRODUCE_AFTER_MS = 1500; // the longest our own media waits for the others' to start flowing
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A call in the browser: one signaling connection for the page's life, and a MediaSession per join.
 * The connection and the media device are made ready while the person is still on the name screen,
 * so the click only has to join: the join, both transports and the producers are asked for at once,
 * consuming starts when the receive transport exists, and our own media follows once theirs flows.
 * A drop, a failed join or a closed room ends the session; reconnecting makes a new one.
 */
export class Call {
  readonly state: RoomState;
  readonly view: CallView;
  readonly local: LocalControls;
  readonly #signaling = new SignalingClient();
  #device: Promise<Device> | undefined;
  #tracksSet: Promise<void> = Promise.resolve(); // our tracks are known (there may be none)
  #session: MediaSession | undefined;
  #admission: JoinAdmission = {};
  #userName = '';
  #seatRetries = 0;
  #wantsToJoin = false;
  #joinedOnce = false;
  #left = false;
  /** From the last join: lets a rejoin take over our old seat before the server notices the old socket is dead. */
  #reclaimSecret: string | undefined;
  /** Video codecs this browser decodes (known once the device loads): the server picks the room's codec from everyone's. */
  #decodable: string[] | undefined;
  #uplinkTimer: ReturnType<typeof setInterval> | undefined;
  /** The room's video codec, as the server last said. */
  #videoCodec = 'video/VP8';
  /** What the page's video tiles need, as last measured (each new session starts from it). */
  #tileNeeds: TileNeeds | undefined;
  /** A direct attempt failed in this call and the relay worked: later joins start relay-only. */
  #relayOnly = false;
  readonly #relay: RelayHooks = {
    only: () => this.#relayOnly,
    fallback: () => {
      this.#relayOnly = true;
      this.view.relayFallback();
    },
    path: (_direction, path) => this.view.mediaPath(path),
  };

  constructor(state: RoomState) {
    this.state = state;
    this.view = new CallView(state);
    this.local = new LocalControls(state, () => this.#session);
    this.#wire();
    // Our own uplink, as the browser measures it: a weak one gets a notice.
    this.#uplinkTimer = setInterval(() => void this.#checkUplink(), UPLINK_CHECK_MS);
  }

  async #checkUplink(): Promise<void> {
    const uplink = await this.#session?.uplink().catch(() => undefined);
    if (!uplink || this.#left) return;
    this.view.uplinkQuality(qualityOfUplink(uplink.fractionLost, uplink.limitedBy, uplink.roundTripTime));
  }

  /** Before the click: connect, and load the media device from the capabilities the page came with. */
  prepare(routerRtpCapabilities: RtpCapabilities | undefined): void {
    this.#signaling.connect();
    if (routerRtpCapabilities) this.#loadDevice(routerRtpCapabilities);
  }

  /** The click on "Join call". Local tracks may still be on their way; they are sent when they come. */
  join(userName: string, admission: JoinAdmission, tracks: Promise<LocalTracks>): void {
    mark('click');
    this.#userName = userName;
    this.#admission = admission;
    this.#wantsToJoin = true;
    upsertParticipant(this.state, this.state.localUserId, { name: userName });
    this.#tracksSet = tracks.then((t) => this.local.setTracks(t));
    this.view.connecting();
    return void (this.#signaling.connected ? this.#join() : this.#signaling.connect());
  }

  #wire(): void {
    const signaling = this.#signaling;
    signaling.onConnect(() => this.#wantsToJoin && !this.#left && void this.#join());
    signaling.onConnectError((error) => {
      // A refused handshake (e.g. rate limited) is not retried by Socket.IO itself.
      if (signaling.active || this.#left || !this.#wantsToJoin) return;
      this.view.cannotConnect(error.message);
      setTimeout(() => signaling.connect(), 5000);
    });
    signaling.onDisconnect((reason) => {
      if (this.#left) return;
      if (this.#wantsToJoin) {
        this.#endSession();
        this.view.connectionLost();
      }
      // A server-side disconnect does not auto-reconnect in Socket.IO; do it ourselves.
      if (reason === 'io server disconnect') setTimeout(() => signaling.connect(), 500);
    });
    signaling.on('userJoined', (info) => this.view.participantJoined(info));
    signaling.on('userLeft', ({ userId }) => {
      this.#session?.removeUser(userId);
      this.view.participantLeft(userId);
    });
    signaling.on('newProducer', (info) => {
      if (info.userId !== this.state.localUserId) void this.#session?.consume(info);
    });
    signaling.on('producerClosed', ({ producerId }) => {
      // One of ours: a host stopped our screen share.
      if (this.#session?.sourceOf(producerId) === 'screen') return void this.local.stopScreen();
      this.#session?.removeRemote(producerId);
    });
    for (const [event, paused] of [['producerPaused', true], ['producerResumed', false]] as const) {
      signaling.on(event, ({ producerId }) => {
        // One of ours: a host muted our microphone (we may unmute ourselves).
        if (paused && this.#session?.sourceOf(producerId) === 'mic') return void this.local.mutedByHost();
        this.#session?.setRemotePaused(producerId, paused);
      });
    }
    signaling.on('admitted', () => {
      if (this.#wantsToJoin && !this.#left) void this.#join();
    });
    signaling.on('denied', () => {
      this.#wantsToJoin = false;
      this.view.deniedEntry();
    });
    signaling.on('chatMessage', (message) => this.view.chatMessage(message));
    signaling.on('handRaised', (hand) => this.view.handRaised(hand));
    signaling.on('reaction', ({ userId, emoji }) => this.view.reaction(userId, emoji));
    signaling.on('roleChanged', ({ userId, role }) => this.view.roleChanged(userId, role));
    signaling.on('roomLocked', ({ locked }) => this.view.roomLocked(locked));
    signaling.on('lobbyChanged', ({ waiting }) => this.view.lobbyChanged(waiting));
    signaling.on('unmuteRequested', () => this.view.unmuteRequested());
    signaling.on('videoCodec', ({ mimeType }) => {
      this.#videoCodec = mimeType;
      void this.#session?.setVideoCodec(mimeType);
    });
    signaling.on('activeSpeaker', ({ userId }) => this.view.activeSpeaker(userId));
    signaling.on('consumerLayersChanged', ({ consumerId, spatialLayer }) => this.#session?.noteConsumer(consumerId, { spatialLayer }));
    signaling.on('consumerScore', ({ consumerId, score, producerScore }) => {
      this.#session?.noteConsumer(consumerId, { score });
      const remote = this.#session?.remoteOf(consumerId);
      if (remote?.source === 'camera') this.view.quality(remote.userId, qualityOfScores(score, producerScore));
    });
    signaling.on('seat', ({ roomId, userId, reclaimSecret }) => {
      if (roomId === this.state.roomId && userId === this.state.localUserId) this.#reclaimSecret = reclaimSecret;
    });
    // A host or operator removed us: no rejoin (the server would refuse it for a while anyway).
    signaling.on('removedFromRoom', ({ reason }) => void this.leave().then(() => this.view.removed(reason)));
    signaling.on('roomClosed', ({ reason }) => {
      this.#endSession();
      this.view.roomClosed(reason);
      // On shutdown the socket's reconnect brings us back once the server is up again.
      if (reason !== 'shutdown') void this.#join();
    });
  }

  #loadDevice(capabilities: RtpCapabilities | Promise<RtpCapabilities>): Promise<Device> {
    const device = (this.#device = loadDevice(capabilities));
    void device.then((d) => (this.#decodable = decodableVideo(d)), () => {});
    // A failed load is tried again by the next join.
    device.catch(() => (this.#device = undefined));
    return device;
  }

  async #join(): Promise<void> {
    this.#endSession();
    const { roomId, localUserId } = this.state;
    const { password, token, hostKey } = this.#admission;
    this.view.connecting();
    // Pipelined: the server handles the join first, then the requests that need it.
    const joining = this.#signaling.request('joinRoom', { roomId, userId: localUserId, userName: this.#userName, reclaimSecret: this.#reclaimSecret, password, token, hostKey, videoCodecs: this.#decodable });
    const device = this.#device ?? this.#loadDevice(this.#signaling.request('getRouterRtpCapabilities', { roomId }).then((r) => r.rtpCapabilities));
    const session = new MediaSession(this.#signaling, roomId, device, this.view, this.#relay);
    void session.setVideoCodec(this.#videoCodec);
    this.#session = session;
    if (this.#tileNeeds) session.setTileNeeds(this.#tileNeeds);
    const consumed = session.consumeExisting();
    consumed.catch(() => {});
    let seated = false;
    try {
      const reply = await joining;
      if ('lobby' in reply) {
        // A locked room: wait for a host. The requests sent along with the join were refused; `admitted` joins again.
        this.#endSession();
        this.view.inLobby();
        return;
      }
      const { participants } = reply;
      seated = true;
      if (session.closed) return;
      mark('joined');
      this.#seatRetries = 0;
      this.view.setParticipants(participants);
      // A late joiner sees what was said before it came.
      void this.#signaling.request('getChatHistory', {}).then(({ messages }) => this.view.chatHistory(messages), () => {});
      await session.sendReady();
      if (session.closed) return;
      this.#joinedOnce = true;
      this.view.connected();
      // Seeing the others comes first: our encoder starts once their media flows (or a moment later at
      // most), so it does not compete with the first consumers for CPU on a small device.
      await Promise.all([Promise.race([consumed, delay(PRODUCE_AFTER_MS)]), this.#tracksSet]);
      await Promise.all([this.local.produceAll(session), consumed]);
    } catch (error) {
      if (session.closed || this.#left) return;
      this.#endSession();
      this.#onJoinFailed(session, error as Error, seated);
    }
  }

  #onJoinFailed(session: MediaSession, error: Error, seated: boolean): void {
    const code = failureCode(error);
    const retry = (delayMs: number) =>
      setTimeout(() => {
        // Nothing else started a join meanwhile (a reconnect does), and we are still wanted.
        if (this.#session === undefined && this.#signaling.connected && !this.#left) void this.#join();
      }, delayMs);
    const next = afterJoinFailure(code, this.#joinedOnce, this.#seatRetries++);
    if (next === 'await-seat') return void retry(1000);
    if (next === 'refused') {
      // Before the call started the person may fix it (another password) and click again.
      if (this.#joinedOnce) void this.leave();
      else this.#wantsToJoin = false;
      this.view.refused();
      this.#admission.onRefused?.(code as ErrorCode, error.message);
      return;
    }
    this.view.joinFailed(error.message);
    // The server still seats us if joinRoom itself succeeded: give the seat back before trying again.
    if (seated) void this.#signaling.request('leaveRoom', { roomId: session.roomId, userId: this.state.localUserId }).catch(() => {});
    retry(2000);
  }

  /** This join's server side is gone or going (drop, room closed, failure): keep local tracks. */
  #endSession(): void {
    this.#session?.close();
    this.#session = undefined;
  }

  /** Leaves for good: tells the server, stops every track, closes the socket. */
  async leave(): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    clearInterval(this.#uplinkTimer);
    this.view.left();
    // Others see us go at once; a server that does not answer soon is not waited for.
    if (this.#session) await this.#signaling.request('leaveRoom', { roomId: this.state.roomId, userId: this.state.localUserId }, 1500).catch(() => {});
    this.#endSession();
    this.local.stopAll();
    this.#signaling.close();
  }

  /** Requests of the call's own features (chat, hands, reactions, host controls): the reply, or a thrown RequestError. */
  request<E extends RequestName>(event: E, payload: RequestOf<E>): Promise<ReplyOf<E>> {
    return this.#signaling.request(event, payload);
  }

  /** The page measured its video tiles (TileWatcher). */
  setTileNeeds(needs: TileNeeds): void {
    this.#tileNeeds = needs;
    this.#session?.setTileNeeds(needs);
  }

  /** Diagnostics and tests: how each transport reaches the server now (relay or not). */
  paths(): Promise<Awaited<ReturnType<MediaSession['paths']>>> {
    return this.#session?.paths() ?? Promise.resolve({});
  }

  /** Numbers for diagnostics and tests. */
  stats(): Promise<SessionStats> {
    return this.#session?.stats() ?? Promise.resolve({ consumers: [], producers: [] });
  }

  /** The socket id, for tests that cut the connection from the server side. */
  get socketId(): string | undefined {
    return this.#signaling.id;
  }
}
