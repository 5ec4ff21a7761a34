/**
 * Bot participants seated straight into a room of the in-process server: each is a Peer (the room
 * announces it, userJoined) with a PlainTransport (comedia) and a camera and a microphone producer
 * (announced, newProducer), fed by the RTP replayer. With simulcast each camera has three encodings
 * (180p/360p/720p, lowest first); without, just the 720p one.
 */
import type { types } from 'mediasoup';
import type { Parley } from '../../src/app.ts';
import { Peer } from '../../src/rooms/Peer.ts';
import type { Media } from './media.ts';
import { AUDIO_LEVEL_EXT_ID, OPUS_PT, startReplayer, VP8_PT, type PublisherPlan, type Replayer, type SpeakerMode } from './replayer.ts';

export interface BotOptions {
  count: number;
  simulcast: boolean;
  speaker: SpeakerMode;
  /** Answer PLIs with a key frame, as a real encoder does (else switches wait for the 2 s GOP). */
  keyFrameOnPli: boolean;
}

export interface Bots {
  /** In join order: bot i is "Bot i+1". */
  users: { userId: string; userName: string }[];
  replayer: Replayer;
  close(): void;
}

const MAX_BITRATE = [200_000, 700_000, 2_000_000];
const usedSsrcs = new Set<number>();
function newSsrc(): number {
  let ssrc: number;
  do ssrc = 1 + Math.floor(Math.random() * 0xfffffff0);
  while (usedSsrcs.has(ssrc));
  usedSsrcs.add(ssrc);
  return ssrc;
}

function videoParameters(layers: number[], ssrcs: number[], cname: string): types.RtpParameters {
  return {
    codecs: [
      {
        mimeType: 'video/VP8',
        payloadType: VP8_PT,
        clockRate: 90000,
        rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'goog-remb' }],
      },
    ],
    encodings: layers.map((layer, k) => ({ ssrc: ssrcs[k]!, scalabilityMode: 'L1T3', maxBitrate: MAX_BITRATE[layer]! })),
    rtcp: { cname, reducedSize: true },
  };
}

function audioParameters(ssrc: number, cname: string): types.RtpParameters {
  return {
    codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2 }],
    headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: AUDIO_LEVEL_EXT_ID }],
    encodings: [{ ssrc }],
    rtcp: { cname, reducedSize: true },
  };
}

export async function startBots(server: Parley, roomId: string, media: Media, options: BotOptions): Promise<Bots> {
  const room = await server.registry.getOrCreate(roomId);
  const layers = options.simulcast ? media.layers.map((_, i) => i) : [media.layers.length - 1];
  const peers: Peer[] = [];
  const transports: types.PlainTransport[] = [];
  const plans: PublisherPlan[] = [];
  const users: Bots['users'] = [];
  const tag = Math.random().toString(36).slice(2, 8);
  try {
    for (let i = 0; i < options.count; i++) {
      const user = { userId: `bot-${tag}-${i + 1}`, userName: `Bot ${i + 1}` };
      const peer = new Peer(user.userId, user.userName, `bot-socket-${tag}-${i + 1}`);
      room.addPeer(peer);
      peers.push(peer);
      users.push(user);
      const transport = await room.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
      transports.push(transport);
      const cname = `bench-${tag}-${i + 1}`;
      const plan: PublisherPlan = { port: transport.tuple.localPort, layers, videoSsrcs: layers.map(newSsrc), audioSsrc: newSsrc() };
      const camera = await transport.produce({ kind: 'video', rtpParameters: videoParameters(layers, plan.videoSsrcs, cname), appData: { type: 'camera' } });
      const mic = await transport.produce({ kind: 'audio', rtpParameters: audioParameters(plan.audioSsrc, cname), appData: { type: 'mic' } });
      peer.addProducer(camera);
      peer.addProducer(mic);
      plans.push(plan);
    }
  } catch (error) {
    for (const peer of peers) room.removePeer(peer);
    for (const transport of transports) transport.close();
    throw error;
  }
  const replayer = await startReplayer(media, plans, { speaker: options.speaker, keyFrameOnPli: options.keyFrameOnPli });
  return {
    users,
    replayer,
    close() {
      replayer.stop();
      for (const transport of transports) transport.close();
      for (const peer of peers) room.removePeer(peer);
    },
  };
}
