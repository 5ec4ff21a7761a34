import type { RtpParameters } from '../../src/signaling/protocol.ts';

let nextSsrc = 100_000;

/** rtpParameters as a browser would send for a VP8 camera track. */
export function videoRtpParameters(ssrc = nextSsrc++): RtpParameters {
  return {
    mid: '0',
    codecs: [
      {
        mimeType: 'video/VP8',
        payloadType: 96,
        clockRate: 90000,
        parameters: {},
        rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'goog-remb' }],
      },
    ],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname: `cname-${ssrc}`, reducedSize: true },
  };
}

/** rtpParameters as a browser would send for an opus microphone track. */
export function audioRtpParameters(ssrc = nextSsrc++): RtpParameters {
  return {
    mid: '1',
    codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname: `cname-${ssrc}`, reducedSize: true },
  };
}

export const FAKE_DTLS = {
  role: 'client' as const,
  fingerprints: [{ algorithm: 'sha-256' as const, value: Array.from({ length: 32 }, () => 'AB').join(':') }],
};
