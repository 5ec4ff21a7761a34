/**
 * Replays the pre-encoded media (media.ts) as RTP for N publishers, from one UDP socket each and one
 * timer for all: every publisher sends its VP8 layers (one SSRC each, packetized per RFC 7741 with a
 * picture id and TL0PICIDX so the SFU can switch layers seamlessly), Opus with the ssrc-audio-level
 * header extension, and about once a second a compound RTCP of Sender Reports for all its SSRCs —
 * mediasoup switches simulcast layers only for streams it has an SR (a capture clock) for.
 * Publishers start one after another over one GOP (2 s), so their key frames (5-10× a frame's size)
 * do not all leave at once as no real callers' would — and neither do their other packets.
 *
 * Like a real encoder, a publisher answers a PLI (the SFU asks for one when a receiver starts on, or
 * switches to, a layer) with a key frame on that layer: the layer's content jumps back to the last
 * key frame of the clip (at most one such jump per layer per KEYFRAME_MIN_INTERVAL_MS). With
 * `keyFrameOnPli` false PLIs are only counted, and a switch waits for the clip's next key frame (2 s GOP).
 */
import dgram from 'node:dgram';
import { FPS, GOP, isKeyFrame, temporalLayerOf, type Media } from './media.ts';

/** What one publisher sends and to where (the PlainTransport's port on 127.0.0.1). */
export interface PublisherPlan {
  port: number;
  /** Indices into media.layers, lowest first, one SSRC each. */
  layers: number[];
  videoSsrcs: number[];
  audioSsrc: number;
}

/** Who speaks: one at a time in turn (every SPEAKER_TURN_MS), always publisher 0, or nobody. */
export type SpeakerMode = 'rotate' | 'fixed' | 'none';

export const VP8_PT = 96;
export const OPUS_PT = 111;
export const AUDIO_LEVEL_EXT_ID = 1;
const SPEAKER_TURN_MS = 3000;
const SPEAKING_DBOV = 10;
const SILENT_DBOV = 127;
const MAX_CHUNK = 1150;
const FRAME_MS = 1000 / FPS;
const GOP_MS = (GOP * 1000) / FPS;
const AUDIO_MS = 20;
/** A silent participant's Opus with DTX (as browsers send it, usedtx=1) sends one packet per 400 ms. */
const DTX_EVERY = 20;
const SR_INTERVAL_MS = 1000;
const NTP_EPOCH_OFFSET = 2_208_988_800;
const KEYFRAME_MIN_INTERVAL_MS = 300;
const LATE_MS = 50;

export interface ReplayerStats {
  packets: number;
  bytes: number;
  rtcpIn: number;
  plisIn: number;
  /** Key frames sent out of turn, in answer to a PLI. */
  keyFramesOnPli: number;
  /** Frames sent over LATE_MS after their time (this process's event loop was busy), and the worst delay, ms. */
  lateFrames: number;
  maxLateMs: number;
}

export interface Replayer {
  readonly stats: ReplayerStats;
  stop(): void;
}

interface SsrcState {
  ssrc: number;
  seq: number;
  tsBase: number;
  clock: number;
  packets: number;
  octets: number;
}

interface VideoState extends SsrcState {
  layer: number;
  pictureId: number;
  tl0: number;
  /** Clip frame = (frame + offset) mod clip length. */
  offset: number;
  keyFrameWanted: boolean;
  lastForcedKeyFrame: number;
}

interface Publisher {
  socket: dgram.Socket;
  start: number;
  video: VideoState[];
  audio: SsrcState;
  frame: number;
  audioPacket: number;
  nextSr: number;
}

const rand32 = () => (Math.random() * 2 ** 32) >>> 0;
const newState = (ssrc: number, clock: number): SsrcState => ({ ssrc, seq: rand32() & 0xffff, tsBase: rand32(), clock, packets: 0, octets: 0 });

/** Each frame of each layer cut once into payload chunks of at most MAX_CHUNK bytes (no copies). */
function chunk(frames: Buffer[]): Buffer[][] {
  return frames.map((frame) => {
    const chunks: Buffer[] = [];
    for (let at = 0; at < frame.length; at += MAX_CHUNK) chunks.push(frame.subarray(at, at + MAX_CHUNK));
    return chunks;
  });
}

function rtpHeader(size: number, marker: boolean, pt: number, s: SsrcState, ts: number, extended = false): Buffer {
  const h = Buffer.allocUnsafe(size);
  h[0] = extended ? 0x90 : 0x80;
  h[1] = (marker ? 0x80 : 0) | pt;
  h.writeUInt16BE(s.seq, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(s.ssrc, 8);
  s.seq = (s.seq + 1) & 0xffff;
  return h;
}

export async function startReplayer(media: Media, plans: PublisherPlan[], options: { speaker: SpeakerMode; keyFrameOnPli: boolean }): Promise<Replayer> {
  const chunks = media.layers.map((layer) => chunk(layer.frames));
  const keyFrames = media.layers.map((layer) => layer.frames.flatMap((frame, i) => (isKeyFrame(frame) ? [i] : [])));
  const stats: ReplayerStats = { packets: 0, bytes: 0, rtcpIn: 0, plisIn: 0, keyFramesOnPli: 0, lateFrames: 0, maxLateMs: 0 };
  const publishers: Publisher[] = [];
  for (const plan of plans) {
    const socket = dgram.createSocket({ type: 'udp4', sendBufferSize: 1 << 20 });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.connect(plan.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const video: VideoState[] = plan.layers.map((layer, k) => ({
      ...newState(plan.videoSsrcs[k]!, 90000),
      layer,
      pictureId: rand32() & 0x7fff,
      tl0: rand32() & 0xff,
      offset: 0,
      keyFrameWanted: false,
      lastForcedKeyFrame: -Infinity,
    }));
    // RTCP from the SFU: receiver reports, and PLIs (FCI: the media SSRC at byte 8) on layer switches.
    socket.on('message', (msg) => {
      stats.rtcpIn++;
      for (let at = 0; at + 12 <= msg.length; at += (msg.readUInt16BE(at + 2) + 1) * 4) {
        if (msg[at + 1] !== 206 || (msg[at]! & 0x1f) !== 1) continue;
        stats.plisIn++;
        const wanted = video.find((v) => v.ssrc === msg.readUInt32BE(at + 8));
        if (wanted && options.keyFrameOnPli) wanted.keyFrameWanted = true;
      }
    });
    publishers.push({
      socket,
      start: 0, // below, once all sockets are ready
      video,
      audio: newState(plan.audioSsrc, 48000),
      frame: 0,
      audioPacket: 0,
      nextSr: 0,
    });
  }

  const t0 = performance.now() + 20;
  for (const [i, p] of publishers.entries()) p.start = t0 + (i * GOP_MS) / publishers.length;

  const send = (p: Publisher, parts: Buffer[]) => {
    p.socket.send(parts);
    stats.packets++;
    for (const part of parts) stats.bytes += part.length;
  };

  const sendFrame = (p: Publisher) => {
    const n = p.frame++;
    for (const v of p.video) {
      const clip = chunks[v.layer]!;
      // A PLI soon after the last forced key frame waits its turn (it is likely answered by it already).
      if (v.keyFrameWanted && performance.now() - v.lastForcedKeyFrame >= KEYFRAME_MIN_INTERVAL_MS) {
        v.keyFrameWanted = false;
        const at = (n + v.offset) % clip.length;
        if (!keyFrames[v.layer]!.includes(at)) {
          // Back to the clip's last key frame before here: a valid stream from it on, its content a jump.
          const key = keyFrames[v.layer]!.findLast((k) => k <= at) ?? 0;
          v.offset = (((key - n) % clip.length) + clip.length) % clip.length;
          v.lastForcedKeyFrame = performance.now();
          stats.keyFramesOnPli++;
        }
      }
      const index = (n + v.offset) % clip.length;
      const pieces = clip[index]!;
      const tid = temporalLayerOf(index);
      // TL0PICIDX counts layer-0 frames: it steps on each one, the others carry the last one's.
      if (tid === 0) v.tl0 = (v.tl0 + 1) & 0xff;
      const ts = v.tsBase + n * (90000 / FPS);
      for (const [k, piece] of pieces.entries()) {
        const h = rtpHeader(18, k === pieces.length - 1, VP8_PT, v, ts);
        // VP8 payload descriptor: X, S on the first packet; I, L, T; 15-bit picture id; TL0PICIDX; TID, Y.
        h[12] = 0x80 | (k === 0 ? 0x10 : 0);
        h[13] = 0xe0;
        h[14] = 0x80 | ((v.pictureId >> 8) & 0x7f);
        h[15] = v.pictureId & 0xff;
        h[16] = v.tl0;
        h[17] = (tid << 6) | 0x20;
        send(p, [h, piece]);
        v.packets++;
        v.octets += 6 + piece.length;
      }
      v.pictureId = (v.pictureId + 1) & 0x7fff;
    }
  };

  const levelOf = (index: number, now: number) => {
    if (options.speaker === 'none') return SILENT_DBOV;
    const speaker = options.speaker === 'fixed' ? 0 : Math.floor((now - t0) / SPEAKER_TURN_MS) % publishers.length;
    return index === speaker ? SPEAKING_DBOV : SILENT_DBOV;
  };

  const sendAudio = (p: Publisher, index: number, now: number) => {
    const m = p.audioPacket++;
    const level = levelOf(index, now);
    const silent = level === SILENT_DBOV;
    // Silence is DTX: nothing but a TOC-only Opus packet (an empty frame) every 400 ms, its sequence
    // numbers unbroken and its timestamp on the 20 ms clock, so the gaps are not losses.
    if (silent && m % DTX_EVERY !== 0) return;
    const speech = media.audio[m % media.audio.length]!;
    const payload = silent ? Buffer.from([speech[0]! & 0xfc]) : speech;
    const h = rtpHeader(20, false, OPUS_PT, p.audio, p.audio.tsBase + m * 960, true);
    // One-byte header extension block: ssrc-audio-level (id 1, 1 byte), V flag + level in -dBov.
    h.writeUInt32BE(0xbede0001, 12);
    h[16] = (AUDIO_LEVEL_EXT_ID << 4) | 0;
    h[17] = (silent ? 0 : 0x80) | level;
    h[18] = 0;
    h[19] = 0;
    send(p, [h, payload]);
    p.audio.packets++;
    p.audio.octets += payload.length;
  };

  /** A compound RTCP packet: one Sender Report per SSRC, wall clock against the RTP clock of the schedule. */
  const sendReports = (p: Publisher, now: number) => {
    const wall = (performance.timeOrigin + now) / 1000 + NTP_EPOCH_OFFSET;
    const seconds = Math.floor(wall);
    const states: SsrcState[] = [...p.video, p.audio];
    const out = Buffer.alloc(28 * states.length);
    for (const [k, s] of states.entries()) {
      const at = 28 * k;
      out[at] = 0x80;
      out[at + 1] = 200;
      out.writeUInt16BE(6, at + 2);
      out.writeUInt32BE(s.ssrc, at + 4);
      out.writeUInt32BE(seconds >>> 0, at + 8);
      out.writeUInt32BE(Math.floor((wall - seconds) * 2 ** 32) >>> 0, at + 12);
      out.writeUInt32BE((s.tsBase + Math.round(((now - p.start) * s.clock) / 1000)) >>> 0, at + 16);
      out.writeUInt32BE(s.packets >>> 0, at + 20);
      out.writeUInt32BE(s.octets >>> 0, at + 24);
    }
    p.socket.send(out);
  };

  const tick = () => {
    const now = performance.now();
    for (const [i, p] of publishers.entries()) {
      while (now >= p.start + p.frame * FRAME_MS) {
        const late = now - (p.start + p.frame * FRAME_MS);
        if (late > LATE_MS) stats.lateFrames++;
        stats.maxLateMs = Math.max(stats.maxLateMs, late);
        sendFrame(p);
      }
      while (now >= p.start + p.audioPacket * AUDIO_MS) sendAudio(p, i, now);
      if (now >= p.start && now >= p.nextSr) {
        sendReports(p, now);
        p.nextSr = now + SR_INTERVAL_MS;
      }
    }
  };
  const timer = setInterval(tick, 5);

  return {
    stats,
    stop() {
      clearInterval(timer);
      for (const p of publishers) p.socket.close();
    },
  };
}
