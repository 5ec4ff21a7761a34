import { Device, type types } from 'mediasoup-client';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ProducerInfo, ReplyOf, RequestName, RequestOf, ServerToClientEvents } from '../signaling/protocol.ts';
import { acquireCamera, describeMediaError } from './localMedia.ts';
import {
  addNotice,
  clearNotice,
  removeParticipant,
  updateParticipantTracks,
  upsertParticipant,
  type RoomState,
  type VideoSource,
} from './roomStore.ts';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** What a join may need besides the name: a room password, a signed token, and who to tell when it is refused. */
export interface JoinAdmission {
  password?: string;
  token?: string;
  /** The server refused us for good (wrong password, bad token): retrying cannot help. */
  onRefused?: (message: string) => void;
}

const REFUSALS = /password|room token|requires a room token/;
/** The server cannot admit anyone to this room any more (see rooms/roomIds.ts): retrying is pointless. */
const GONE_FOR_GOOD = /no longer knows/;
type Source = 'mic' | 'camera' | 'screen';

interface RemoteConsumer {
  consumer: types.Consumer;
  userId: string;
  source: VideoSource | 'audio';
  audio?: HTMLAudioElement;
}

const REQUEST_TIMEOUT_MS = 10_000;
/** How long a 'disconnected' transport may heal by itself before it gets an ICE restart. */
const DISCONNECTED_GRACE_MS = 2000;
const CONNECTIVITY_LINK = { href: '/connectivity', text: 'Check your connection' };

/**
 * The browser side of a call: one socket, one mediasoup Device per join, one send and one receive
 * transport, producers for mic/camera/screen and a consumer for every remote producer. It writes
 * what happens into the RoomState the UI renders.
 */
export class CallSession {
  readonly state: RoomState;
  readonly #userName: string;
  readonly #socket: ClientSocket;
  #device: Device | undefined;
  #sendTransport: types.Transport | undefined;
  #recvTransport: types.Transport | undefined;
  readonly #producers = new Map<Source, types.Producer>();
  readonly #producing = new Set<Source>();
  /** Producers being consumed right now: a newProducer racing getProducers must not consume twice. */
  readonly #consuming = new Set<string>();
  readonly #consumers = new Map<string, RemoteConsumer>();
  /** Transports with an ICE restart loop running. */
  readonly #iceRestarting = new WeakSet<types.Transport>();
  /** Remote producers reported paused (producerPaused may come before we consume them). */
  readonly #pausedProducers = new Set<string>();
  readonly #tracks: { mic: MediaStreamTrack | null; camera: MediaStreamTrack | null; screen: MediaStreamTrack | null } = { mic: null, camera: null, screen: null };
  /** Bumped on every (re)join; work from an older join stops when it sees a newer one. */
  #generation = 0;
  #joined = false;
  #left = false;
  /** From the last join: lets a rejoin take over our old seat before the server notices the old socket is dead. */
  #reclaimSecret: string | undefined;

  readonly #admission: JoinAdmission;

  constructor(state: RoomState, userName: string, admission: JoinAdmission = {}) {
    this.state = state;
    this.#userName = userName;
    this.#admission = admission;
    this.#socket = io({ autoConnect: false, transports: ['websocket', 'polling'], reconnectionDelay: 500, reconnectionDelayMax: 3000 });
  }

  /** Connects and joins; on every reconnect the session joins again and restores its producers. */
  start(): void {
    this.#wireSocket();
    this.#socket.connect();
  }

  /** Local tracks picked up before joining; the call starts producing them once joined. */
  setLocalTracks(audio: MediaStreamTrack | null, video: MediaStreamTrack | null): void {
    this.#tracks.mic = audio;
    this.#tracks.camera = video;
    const local = this.state.local;
    local.micAvailable = audio !== null;
    local.cameraAvailable = video !== null;
    local.micOn = audio !== null;
    local.cameraOn = video !== null;
    upsertParticipant(this.state, this.state.localUserId, { name: this.#userName, micMuted: !local.micOn, cameraOff: !local.cameraOn });
    updateParticipantTracks(this.state, this.state.localUserId, 'camera', video);
  }

  #wireSocket(): void {
    const socket = this.#socket;
    this.state.connection = 'connecting';
    socket.on('connect', () => void this.#join());
    socket.on('connect_error', (error) => {
      // A refused handshake (e.g. rate limited) is not retried by Socket.IO itself.
      if (socket.active || this.#left) return;
      addNotice(this.state, 'connection', 'error', `Cannot connect to the server (${error.message}). Retrying…`, CONNECTIVITY_LINK);
      setTimeout(() => socket.connect(), 5000);
    });
    socket.on('disconnect', (reason) => {
      if (this.#left) return;
      this.state.connection = 'reconnecting';
      this.#dropMediaSession();
      addNotice(this.state, 'connection', 'warn', 'Connection lost. Reconnecting…');
      // A server-side disconnect does not auto-reconnect in Socket.IO; do it ourselves.
      if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 500);
    });
    socket.on('userJoined', ({ userId, userName }) => {
      if (userId !== this.state.localUserId) upsertParticipant(this.state, userId, { name: userName });
    });
    socket.on('userLeft', ({ userId }) => this.#removeRemote(userId));
    socket.on('newProducer', (info) => void this.#consume(info, this.#generation));
    socket.on('producerClosed', ({ producerId }) => {
      this.#pausedProducers.delete(producerId);
      this.#closeConsumer(producerId);
    });
    socket.on('producerPaused', ({ producerId }) => this.#setRemotePaused(producerId, true));
    socket.on('producerResumed', ({ producerId }) => this.#setRemotePaused(producerId, false));
    socket.on('seat', ({ roomId, userId, reclaimSecret }) => {
      if (roomId === this.state.roomId && userId === this.state.localUserId) this.#reclaimSecret = reclaimSecret;
    });
    socket.on('roomClosed', ({ reason }) => {
      this.#dropMediaSession();
      if (reason === 'shutdown') {
        // The server is going down; the socket's reconnect brings us back when it is up again.
        addNotice(this.state, 'connection', 'warn', 'The server is restarting. Reconnecting…');
        return;
      }
      addNotice(this.state, 'connection', 'warn', 'The media server restarted. Rejoining…');
      void this.#join();
    });
  }

  async #request<E extends RequestName>(event: E, payload: RequestOf<E>): Promise<ReplyOf<E>> {
    const emit = this.#socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck as unknown as (e: E, p: RequestOf<E>) => Promise<ReplyOf<E> | { error: string }>;
    const reply = await emit.call(this.#socket.timeout(REQUEST_TIMEOUT_MS), event, payload);
    if (reply && typeof reply === 'object' && 'error' in reply && typeof reply.error === 'string') throw new Error(reply.error);
    return reply as ReplyOf<E>;
  }

  async #join(): Promise<void> {
    const generation = ++this.#generation;
    const { roomId, localUserId } = this.state;
    this.state.connection = this.#joined ? 'reconnecting' : 'connecting';
    let seated = false;
    try {
      let joined: ReplyOf<'joinRoom'> | undefined;
      // After a network drop the server may not yet have noticed our old socket is gone.
      for (let attempt = 0; !joined; attempt++) {
        try {
          const { password, token } = this.#admission;
          joined = await this.#request('joinRoom', { roomId, userId: localUserId, userName: this.#userName, reclaimSecret: this.#reclaimSecret, password, token });
        } catch (error) {
          if (!/already in this room/.test((error as Error).message) || attempt > 30) throw error;
          await new Promise((resolve) => setTimeout(resolve, 1000));
          if (generation !== this.#generation) return;
        }
      }
      if (generation !== this.#generation) return;
      seated = true;
      this.#reconcileParticipants(joined.participants.map((p) => p.userId));
      for (const { userId, userName } of joined.participants) upsertParticipant(this.state, userId, { name: userName });

      const { rtpCapabilities } = await this.#request('getRouterRtpCapabilities', { roomId });
      const device = new Device();
      await device.load({ routerRtpCapabilities: rtpCapabilities as types.RtpCapabilities });
      if (generation !== this.#generation) return;
      this.#device = device;
      this.#sendTransport = await this.#createTransport(device, 'send');
      this.#recvTransport = await this.#createTransport(device, 'recv');
      if (generation !== this.#generation) return;
      this.#joined = true;
      this.state.connection = 'connected';
      clearNotice(this.state, 'connection');

      await this.#produceAll();
      const { producers } = await this.#request('getProducers', { roomId });
      await Promise.all(producers.map((info) => this.#consume(info, generation)));
    } catch (error) {
      if (generation !== this.#generation || this.#left) return;
      const message = (error as Error).message;
      // A refusal is final before we were ever in; a room that is gone for good is final even mid-call.
      if ((REFUSALS.test(message) && !this.#joined) || GONE_FOR_GOOD.test(message)) {
        void this.leave();
        this.#admission.onRefused?.(message);
        return;
      }
      addNotice(this.state, 'connection', 'error', `Could not join the call: ${message}. Retrying…`, CONNECTIVITY_LINK);
      this.#dropMediaSession();
      // The server still seats us if joinRoom itself succeeded: give the seat back before trying again.
      if (seated) await this.#request('leaveRoom', { roomId, userId: localUserId }).catch(() => {});
      const retryGeneration = this.#generation;
      setTimeout(() => {
        if (retryGeneration === this.#generation && this.#socket.connected && !this.#left) void this.#join();
      }, 2000);
    }
  }

  async #createTransport(device: Device, direction: 'send' | 'recv'): Promise<types.Transport> {
    const params = await this.#request('createWebRtcTransport', { roomId: this.state.roomId, producing: direction === 'send', consuming: direction === 'recv' });
    const transport = direction === 'send' ? device.createSendTransport(params) : device.createRecvTransport(params);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#request('connectWebRtcTransport', { transportId: transport.id, dtlsParameters }).then(() => callback(), errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        this.#request('produce', { transportId: transport.id, kind, rtpParameters, appData }).then(({ producerId }) => callback({ id: producerId }), errback);
      });
    }
    transport.on('connectionstatechange', (state) => {
      if (state === 'connected') clearNotice(this.state, `media-${direction}`);
      if (state === 'failed') {
        addNotice(this.state, `media-${direction}`, 'error', 'Audio and video cannot get through to the server. Trying again…', CONNECTIVITY_LINK);
      }
      // 'failed' needs new ICE credentials at once. 'disconnected' often heals by itself within a
      // moment (a Wi-Fi hiccup); if it has not after a short grace, restart ICE for it too.
      if (state === 'failed') void this.#restartIce(transport);
      if (state === 'disconnected') {
        setTimeout(() => {
          if (!transport.closed && transport.connectionState === 'disconnected') void this.#restartIce(transport);
        }, DISCONNECTED_GRACE_MS);
      }
    });
    return transport;
  }

  /**
   * Restarts ICE, and again (with backoff) while the transport stays disconnected or failed. One loop
   * per transport: each restart rotates the server's credentials, so overlapping ones would undo
   * each other.
   */
  async #restartIce(transport: types.Transport): Promise<void> {
    if (this.#iceRestarting.has(transport)) return;
    this.#iceRestarting.add(transport);
    try {
      for (let attempt = 0; !transport.closed && this.#socket.connected; attempt++) {
        try {
          const { iceParameters } = await this.#request('restartIce', { transportId: transport.id });
          if (!transport.closed) await transport.restartIce({ iceParameters });
        } catch {
          // The socket's reconnect path rebuilds everything if this transport is gone for good.
        }
        // Give the new credentials time to connect before judging them.
        await new Promise((resolve) => setTimeout(resolve, Math.min(3000 * 2 ** attempt, 30_000)));
        if (transport.connectionState !== 'failed' && transport.connectionState !== 'disconnected') return;
      }
    } finally {
      this.#iceRestarting.delete(transport);
    }
  }

  async #produceAll(): Promise<void> {
    const generation = this.#generation;
    for (const source of ['mic', 'camera', 'screen'] as const) {
      const track = this.#tracks[source];
      if (generation !== this.#generation) return;
      if (track && track.readyState === 'live') await this.#produce(source, track);
    }
  }

  /** One producer per source: skipped while one exists or is being made (controls can race a rejoin). */
  async #produce(source: Source, track: MediaStreamTrack): Promise<void> {
    const transport = this.#sendTransport;
    if (!transport || transport.closed || this.#producing.has(source)) return;
    const existing = this.#producers.get(source);
    if (existing && !existing.closed) return;
    this.#producing.add(source);
    let producer: types.Producer;
    try {
      producer = await transport.produce({
        track,
        stopTracks: false,
        appData: { type: source },
        ...(source === 'mic' ? { codecOptions: { opusDtx: true, opusFec: true } } : {}),
      });
    } finally {
      this.#producing.delete(source);
    }
    if (transport !== this.#sendTransport) {
      producer.close(); // a rejoin replaced the transport meanwhile
      return;
    }
    this.#producers.set(source, producer);
    const paused = (source === 'mic' && !this.state.local.micOn) || (source === 'camera' && !this.state.local.cameraOn);
    if (paused) await this.#setProducerPaused(source, true);
  }

  async #setProducerPaused(source: Source, paused: boolean): Promise<void> {
    const producer = this.#producers.get(source);
    if (!producer || producer.closed) return;
    if (paused) producer.pause();
    else producer.resume();
    await this.#request(paused ? 'pauseProducer' : 'resumeProducer', { producerId: producer.id }).catch(() => {});
  }

  async #consume(info: ProducerInfo, generation: number): Promise<void> {
    const device = this.#device;
    const transport = this.#recvTransport;
    if (!device || !transport || generation !== this.#generation || this.#consumers.has(info.producerId)) return;
    if (info.userId === this.state.localUserId || this.#consuming.has(info.producerId)) return;
    this.#consuming.add(info.producerId);
    try {
      const reply = await this.#request('consume', { producerId: info.producerId, rtpCapabilities: device.recvRtpCapabilities, transportId: transport.id });
      if (generation !== this.#generation || transport.closed) return;
      const consumer = await transport.consume({ id: reply.id, producerId: reply.producerId, kind: reply.kind, rtpParameters: reply.rtpParameters as types.RtpParameters, appData: reply.appData });
      const source: RemoteConsumer['source'] = reply.kind === 'audio' ? 'audio' : reply.appData.type === 'screen' ? 'screen' : 'camera';
      const remote: RemoteConsumer = { consumer, userId: reply.userId, source };
      this.#consumers.set(info.producerId, remote);
      upsertParticipant(this.state, reply.userId, {});
      if (source === 'audio') remote.audio = this.#playAudio(consumer.track, reply.userId, reply.appData.type === 'screen' ? 'screen' : 'mic');
      else updateParticipantTracks(this.state, reply.userId, source, consumer.track);
      this.#setRemotePaused(info.producerId, this.#pausedProducers.has(info.producerId));
      await this.#request('resumeConsumer', { consumerId: consumer.id });
    } catch (error) {
      if (generation === this.#generation) console.warn('consume failed', info.producerId, error);
    } finally {
      this.#consuming.delete(info.producerId);
    }
  }

  /**
   * Remote audio plays from elements of its own in the page's #remote-audio sink, not inside the tiles:
   * tiles are rebuilt when the layout changes, and sound must not stutter when someone pins a tile.
   */
  #playAudio(track: MediaStreamTrack, userId: string, source: 'mic' | 'screen'): HTMLAudioElement {
    const audio = new Audio();
    audio.autoplay = true;
    audio.dataset.userId = userId;
    audio.dataset.source = source;
    audio.srcObject = new MediaStream([track]);
    document.getElementById('remote-audio')?.append(audio);
    audio.play().catch(() => {
      addNotice(this.state, 'autoplay', 'info', 'Click anywhere to hear the others.');
      const resume = () => {
        clearNotice(this.state, 'autoplay');
        for (const remote of this.#consumers.values()) void remote.audio?.play().catch(() => {});
      };
      document.addEventListener('click', resume, { once: true });
    });
    return audio;
  }

  #setRemotePaused(producerId: string, paused: boolean): void {
    if (paused) this.#pausedProducers.add(producerId);
    else this.#pausedProducers.delete(producerId);
    const remote = this.#consumers.get(producerId);
    if (!remote) return;
    if (remote.source === 'audio' && remote.consumer.appData.type !== 'screen') upsertParticipant(this.state, remote.userId, { micMuted: paused });
    if (remote.source === 'camera') upsertParticipant(this.state, remote.userId, { cameraOff: paused });
  }

  #closeConsumer(producerId: string): void {
    const remote = this.#consumers.get(producerId);
    if (!remote) return;
    this.#consumers.delete(producerId);
    remote.consumer.close();
    if (remote.audio) {
      remote.audio.srcObject = null;
      remote.audio.remove();
    }
    if (!this.state.participants[remote.userId]) return;
    if (remote.source === 'audio') {
      if (remote.consumer.appData.type !== 'screen') upsertParticipant(this.state, remote.userId, { micMuted: true });
    } else {
      updateParticipantTracks(this.state, remote.userId, remote.source, null);
      if (remote.source === 'camera') upsertParticipant(this.state, remote.userId, { cameraOff: true });
    }
  }

  #removeRemote(userId: string): void {
    for (const [producerId, remote] of [...this.#consumers]) if (remote.userId === userId) this.#closeConsumer(producerId);
    removeParticipant(this.state, userId);
  }

  /** After a rejoin, forget the people who left while we were away. */
  #reconcileParticipants(present: string[]): void {
    for (const id of [...this.state.order]) {
      if (id !== this.state.localUserId && !present.includes(id)) this.#removeRemote(id);
    }
  }

  /** Everything server-side is gone (disconnect, room closed): close transports, keep local tracks. */
  #dropMediaSession(): void {
    this.#generation++;
    for (const producerId of [...this.#consumers.keys()]) this.#closeConsumer(producerId);
    // The next getProducers reports what is paused afresh; a resume we missed meanwhile must not linger.
    this.#pausedProducers.clear();
    this.#producers.clear();
    this.#sendTransport?.close();
    this.#recvTransport?.close();
    this.#sendTransport = undefined;
    this.#recvTransport = undefined;
    this.#device = undefined;
  }

  // ——— Controls ———

  async toggleMic(): Promise<void> {
    const track = this.#tracks.mic;
    if (!track) return;
    const on = !this.state.local.micOn;
    this.state.local.micOn = on;
    track.enabled = on;
    upsertParticipant(this.state, this.state.localUserId, { micMuted: !on });
    await this.#setProducerPaused('mic', !on);
  }

  async toggleCamera(): Promise<void> {
    const local = this.state.local;
    const me = this.state.localUserId;
    if (local.cameraOn) {
      local.cameraOn = false;
      upsertParticipant(this.state, me, { cameraOff: true });
      await this.#setProducerPaused('camera', true);
      // Stop the device so its light goes off; a new track is taken when it is turned on again.
      this.#tracks.camera?.stop();
      this.#tracks.camera = null;
      updateParticipantTracks(this.state, me, 'camera', null);
      return;
    }
    let track: MediaStreamTrack;
    try {
      track = await acquireCamera();
    } catch (error) {
      addNotice(this.state, 'camera', 'warn', describeMediaError(error, 'camera'));
      return;
    }
    clearNotice(this.state, 'camera');
    this.#tracks.camera = track;
    local.cameraOn = true;
    local.cameraAvailable = true;
    upsertParticipant(this.state, me, { cameraOff: false });
    updateParticipantTracks(this.state, me, 'camera', track);
    const producer = this.#producers.get('camera');
    if (producer && !producer.closed) {
      await producer.replaceTrack({ track });
      await this.#setProducerPaused('camera', false);
    } else {
      await this.#produce('camera', track).catch(() => {});
    }
  }

  async toggleScreen(): Promise<void> {
    if (this.state.local.screenOn) return this.#stopScreen();
    let track: MediaStreamTrack | undefined;
    try {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
      track = stream.getVideoTracks()[0];
    } catch (error) {
      if ((error as DOMException).name !== 'NotAllowedError') addNotice(this.state, 'screen', 'warn', 'Screen sharing could not start.');
      return;
    }
    if (!track) return;
    clearNotice(this.state, 'screen');
    this.#tracks.screen = track;
    this.state.local.screenOn = true;
    track.addEventListener('ended', () => void this.#stopScreen());
    updateParticipantTracks(this.state, this.state.localUserId, 'screen', track);
    await this.#produce('screen', track).catch(() => {});
  }

  async #stopScreen(): Promise<void> {
    if (!this.state.local.screenOn) return;
    this.state.local.screenOn = false;
    this.#tracks.screen?.stop();
    this.#tracks.screen = null;
    updateParticipantTracks(this.state, this.state.localUserId, 'screen', null);
    const producer = this.#producers.get('screen');
    this.#producers.delete('screen');
    if (producer && !producer.closed) {
      producer.close();
      await this.#request('producerClosed', { producerId: producer.id }).catch(() => {});
    }
  }

  /** Leaves for good: tells the server, stops every track, closes the socket. */
  async leave(): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    this.state.connection = 'left';
    if (this.#joined && this.#socket.connected) {
      await Promise.race([
        this.#request('leaveRoom', { roomId: this.state.roomId, userId: this.state.localUserId }).catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, 1500)),
      ]);
    }
    this.#dropMediaSession();
    for (const track of Object.values(this.#tracks)) track?.stop();
    this.#socket.close();
  }

  /** Numbers for diagnostics and tests: what each consumer has received. */
  async stats(): Promise<{ consumers: { userId: string; kind: string; source: string; packetsReceived: number; framesDecoded: number; bytesReceived: number }[]; producers: { source: string; paused: boolean; packetsSent: number }[] }> {
    const consumers = [];
    for (const remote of this.#consumers.values()) {
      let packetsReceived = 0;
      let framesDecoded = 0;
      let bytesReceived = 0;
      (await remote.consumer.getStats()).forEach((report: { type: string; packetsReceived?: number; framesDecoded?: number; bytesReceived?: number }) => {
        if (report.type !== 'inbound-rtp') return;
        packetsReceived += report.packetsReceived ?? 0;
        framesDecoded += report.framesDecoded ?? 0;
        bytesReceived += report.bytesReceived ?? 0;
      });
      consumers.push({ userId: remote.userId, kind: remote.consumer.kind, source: remote.source, packetsReceived, framesDecoded, bytesReceived });
    }
    const producers = [];
    for (const [source, producer] of this.#producers) {
      let packetsSent = 0;
      (await producer.getStats()).forEach((report: { type: string; packetsSent?: number }) => {
        if (report.type === 'outbound-rtp') packetsSent += report.packetsSent ?? 0;
      });
      producers.push({ source, paused: producer.paused, packetsSent });
    }
    return { consumers, producers };
  }

  /** The socket id, for tests that cut the connection from the server side. */
  get socketId(): string | undefined {
    return this.#socket.id;
  }
}
