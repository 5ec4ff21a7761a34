/**
 * A real WebRTC endpoint in Node (werift) driven the way mediasoup-client drives a browser's
 * RTCPeerConnection: the server's transport parameters become a remote SDP, the local SDP becomes
 * the rtpParameters / dtlsParameters we signal. ICE, DTLS and SRTP are all real.
 */
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtpHeader,
  RtpPacket,
  useSdesMid,
} from 'werift';
import type { DtlsParameters, ReplyOf, RtpCapabilities, RtpParameters } from '../../src/signaling/protocol.ts';

export type ServerTransport = ReplyOf<'createWebRtcTransport'>;
/** The signaling round trip a transport needs before media flows (mediasoup-client's 'connect' event). */
export type ConnectTransport = (dtlsParameters: DtlsParameters) => Promise<void>;

const VP8_PAYLOAD_TYPE = 96;
const MID_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';

function newPeerConnection(): RTCPeerConnection {
  return new RTCPeerConnection({
    // One codec, one header extension: keeps both SDP directions trivially matchable.
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/VP8',
          clockRate: 90000,
          payloadType: VP8_PAYLOAD_TYPE,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
        }),
      ],
      audio: [],
    },
    headerExtensions: { video: [useSdesMid()], audio: [] },
    // The server listens on loopback only; werift skips loopback unless told, and IPv6 is noise here.
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
  });
}

// ---- SDP: just enough of it, line based ----

/** Our own DTLS identity, read from the local SDP (what mediasoup-client does too). */
function localDtlsParameters(sdp: string): DtlsParameters {
  const fingerprints = [...sdp.matchAll(/^a=fingerprint:(\S+) (\S+)/gm)].map(([, algorithm, value]) => ({
    algorithm: algorithm as 'sha-256',
    value: value!,
  }));
  if (fingerprints.length === 0) throw new Error('local SDP has no DTLS fingerprint');
  // werift is always the DTLS client here: the offerer gets setup:passive back, the answerer answers setup:active.
  return { role: 'client', fingerprints };
}

function rtpmapOf(codec: RtpParameters['codecs'][number]): string {
  const [, name] = codec.mimeType.split('/');
  return `${name}/${codec.clockRate}${codec.channels && codec.channels > 1 ? `/${codec.channels}` : ''}`;
}

/**
 * The server side of the SDP: ICE-lite, its credentials and candidates, its fingerprint, and one
 * m-section mirroring `rtp`. `setup` is passive in an answer (we are the DTLS client) and actpass
 * in an offer (werift then picks active).
 */
function serverSdp(transport: ServerTransport, rtp: RtpParameters, kind: 'audio' | 'video', direction: 'recvonly' | 'sendonly', setup: 'passive' | 'actpass'): string {
  const mid = rtp.mid ?? '0';
  // werift checks the certificate against every algorithm it knows; sha-256 is the one browsers use.
  const fingerprint = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256');
  if (!fingerprint) throw new Error('server offered no sha-256 fingerprint');
  const lines = [
    'v=0',
    'o=parley 1 1 IN IP4 0.0.0.0',
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${mid}`,
    'a=msid-semantic: WMS *',
    `m=${kind} 7 UDP/TLS/RTP/SAVPF ${rtp.codecs.map((c) => c.payloadType).join(' ')}`,
    'c=IN IP4 127.0.0.1',
    `a=mid:${mid}`,
    `a=${direction}`,
    `a=ice-ufrag:${transport.iceParameters.usernameFragment}`,
    `a=ice-pwd:${transport.iceParameters.password}`,
    // werift only dials UDP unless iceUseTcp; TCP candidates would just be skipped.
    ...transport.iceCandidates
      .filter((c) => c.protocol === 'udp')
      .map((c) => `a=candidate:${c.foundation} 1 udp ${c.priority} ${c.address} ${c.port} typ ${c.type}`),
    'a=end-of-candidates',
    `a=fingerprint:${fingerprint.algorithm} ${fingerprint.value}`,
    `a=setup:${setup}`,
    'a=rtcp-mux',
    'a=rtcp-rsize',
  ];
  for (const codec of rtp.codecs) {
    lines.push(`a=rtpmap:${codec.payloadType} ${rtpmapOf(codec)}`);
    for (const fb of codec.rtcpFeedback ?? []) lines.push(`a=rtcp-fb:${codec.payloadType} ${fb.type}${fb.parameter ? ` ${fb.parameter}` : ''}`);
    const fmtp = Object.entries(codec.parameters ?? {}).map(([k, v]) => `${k}=${v}`);
    if (fmtp.length) lines.push(`a=fmtp:${codec.payloadType} ${fmtp.join(';')}`);
  }
  for (const ext of rtp.headerExtensions ?? []) lines.push(`a=extmap:${ext.id} ${ext.uri}`);
  // Only a sending server announces its SSRC, so werift can route it to a track.
  if (direction === 'sendonly') {
    for (const encoding of rtp.encodings ?? []) {
      lines.push(`a=ssrc:${encoding.ssrc} cname:${rtp.rtcp?.cname ?? 'parley'}`, `a=ssrc:${encoding.ssrc} msid:parley parley-${mid}`);
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** rtpParameters for `produce`, read from werift's local offer the way mediasoup-client reads Chrome's. */
function producerRtpParameters(sdp: string): RtpParameters {
  const one = (re: RegExp, what: string) => {
    const match = sdp.match(re);
    if (!match?.[1]) throw new Error(`local SDP has no ${what}`);
    return match[1];
  };
  const [, ssrc, cname] = sdp.match(/^a=ssrc:(\d+) cname:(\S+)/m) ?? [];
  if (!ssrc || !cname) throw new Error('local SDP has no ssrc/cname');
  const midExtId = Number(one(new RegExp(`^a=extmap:(\\d+) ${MID_URI}`, 'm'), 'mid extmap'));
  const payloadType = Number(one(/^a=rtpmap:(\d+) VP8\/90000/m, 'VP8 rtpmap'));
  const rtcpFeedback = [...sdp.matchAll(new RegExp(`^a=rtcp-fb:${payloadType} (\\S+)(?: (\\S+))?`, 'gm'))].map(([, type, parameter]) => ({
    type: type!,
    parameter: parameter ?? '',
  }));
  return {
    mid: one(/^a=mid:(\S+)/m, 'mid'),
    codecs: [{ mimeType: 'video/VP8', payloadType, clockRate: 90000, parameters: {}, rtcpFeedback }],
    headerExtensions: [{ uri: MID_URI, id: midExtId }],
    encodings: [{ ssrc: Number(ssrc) }],
    rtcp: { cname, reducedSize: true },
  };
}

// ---- Peers ----

export interface SendingPeer {
  pc: RTCPeerConnection;
  track: MediaStreamTrack;
  /** What to pass to `produce`. */
  rtpParameters: RtpParameters;
}

/**
 * A send-only video peer on one server transport. The server answers our offer; connect() is
 * signaled before the answer is applied, so the server knows our fingerprint before DTLS starts.
 */
export async function createSendingPeer(transport: ServerTransport, connect: ConnectTransport): Promise<SendingPeer> {
  const pc = newPeerConnection();
  const track = new MediaStreamTrack({ kind: 'video' });
  pc.addTransceiver(track, { direction: 'sendonly' });
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  const rtpParameters = producerRtpParameters(offer.sdp);
  await connect(localDtlsParameters(offer.sdp));
  await pc.setRemoteDescription({ type: 'answer', sdp: serverSdp(transport, rtpParameters, 'video', 'recvonly', 'passive') });
  return { pc, track, rtpParameters };
}

export interface ReceivingPeer {
  pc: RTCPeerConnection;
  /** Every RTP packet that came out of SRTP decryption on the consumer's track. */
  packets: RtpHeader[];
}

/** A receive-only peer for one consumer: the server's side is the offer, werift answers (as a browser would). */
export async function createReceivingPeer(
  transport: ServerTransport,
  consumer: { kind: 'audio' | 'video'; rtpParameters: RtpParameters },
  connect: ConnectTransport,
): Promise<ReceivingPeer> {
  const pc = newPeerConnection();
  const packets: RtpHeader[] = [];
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => void packets.push(rtp.header));
  });
  await pc.setRemoteDescription({ type: 'offer', sdp: serverSdp(transport, consumer.rtpParameters, consumer.kind, 'sendonly', 'actpass') });
  const answer = await pc.createAnswer();
  await connect(localDtlsParameters(answer.sdp));
  await pc.setLocalDescription(answer);
  return { pc, packets };
}

/** What a browser that can receive only VP8 (no RTX) and the MID extension would advertise. */
export function vp8ReceiveCapabilities(router: RtpCapabilities): RtpCapabilities {
  return {
    codecs: (router.codecs ?? []).filter((c) => c.mimeType.toLowerCase() === 'video/vp8'),
    headerExtensions: (router.headerExtensions ?? []).filter((h) => h.kind === 'video' && h.uri === MID_URI),
  };
}

/**
 * One-packet VP8 key frames: the SFU forwards to a freshly resumed consumer only from a key frame
 * on, so every packet is one (the layout is what mediasoup's VP8 parser checks, not a decodable picture).
 */
export function vp8KeyFramePacket(index: number): RtpPacket {
  const pictureId = index & 0x7fff;
  const descriptor = [0x90, 0x80, 0x80 | (pictureId >> 8), pictureId & 0xff]; // X S | I | M + 15-bit PictureID
  const firstPartitionSize = 10;
  const tag = (firstPartitionSize << 5) | (1 << 4); // show_frame, version 0, key frame (bit 0 = 0)
  const keyFrameHeader = [tag & 0xff, (tag >> 8) & 0xff, (tag >> 16) & 0xff, 0x9d, 0x01, 0x2a, 320 & 0xff, 320 >> 8, 240 & 0xff, 240 >> 8];
  const payload = Buffer.concat([Buffer.from(descriptor), Buffer.from(keyFrameHeader), Buffer.alloc(200, index & 0xff)]);
  // werift rewrites SSRC and payload type to the negotiated ones; we own sequence numbers and timestamps.
  return new RtpPacket(new RtpHeader({ sequenceNumber: index & 0xffff, timestamp: (index * 3000) >>> 0, marker: true }), payload);
}
