import type { types } from 'mediasoup-client';

export type Source = 'mic' | 'camera' | 'screen';

/**
 * The camera as three simulcast layers (about 180p, 360p and 720p of a 720p camera), each with three
 * temporal layers, so every receiver can be sent what its tile needs. The smallest stays under
 * 200 kbps: a grid of thumbnails costs little to receive.
 */
export const CAMERA_LAYERS: types.RtpEncodingParameters[] = [
  { scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: 'L1T3' },
  { scaleResolutionDownBy: 2, maxBitrate: 500_000, scalabilityMode: 'L1T3' },
  { scaleResolutionDownBy: 1, maxBitrate: 1_500_000, scalabilityMode: 'L1T3' },
];

/** A screen share is one full-resolution stream: text must stay sharp, frame rate gives way first. */
export const SCREEN_ENCODING: types.RtpEncodingParameters = { maxBitrate: 2_500_000 };

function findCodec(device: types.Device | undefined, mimeType: string): types.RtpCodecCapability | undefined {
  return device?.rtpCapabilities.codecs?.find((codec) => codec.mimeType.toLowerCase() === mimeType);
}

/**
 * How to send one source. `simulcast: false` is the fallback for a browser (or codec) that refuses
 * simulcast encodings: one stream, as before.
 */
export function produceOptions(source: Source, track: MediaStreamTrack, device: types.Device | undefined, simulcast = true, videoCodec = 'video/VP8'): types.ProducerOptions {
  const base: types.ProducerOptions = { track, stopTracks: false, appData: { type: source } };
  if (source === 'mic') return { ...base, codecOptions: { opusDtx: true, opusFec: true } };
  if (source === 'screen') {
    // 'detail' tells the encoder this is text and lines: keep resolution, drop frames when short of bits.
    if ('contentHint' in track) track.contentHint = 'detail';
    return { ...base, encodings: [SCREEN_ENCODING], ...codecOf(device, videoCodec) };
  }
  const codec = codecOf(device, videoCodec);
  if (!simulcast) return { ...base, ...codec };
  // The room's codec (VP8 unless someone cannot decode it) as simulcast; temporal layers where the codec has them.
  const vp8 = videoCodec.toLowerCase() === 'video/vp8';
  const encodings = CAMERA_LAYERS.map((layer) => (vp8 ? { ...layer } : { scaleResolutionDownBy: layer.scaleResolutionDownBy, maxBitrate: layer.maxBitrate }));
  return { ...base, encodings, codecOptions: { videoGoogleStartBitrate: 1000 }, ...codec };
}

/** The device's codec for a mime type, as produce's `codec` option (none: the browser's first choice). */
function codecOf(device: types.Device | undefined, mimeType: string): { codec?: types.RtpCodecCapability } {
  const codec = findCodec(device, mimeType.toLowerCase());
  return codec ? { codec } : {};
}

/** A screen share gives up frame rate before resolution (where the browser lets us say so). */
export async function keepResolution(producer: types.Producer): Promise<void> {
  const sender = producer.rtpSender;
  if (!sender) return;
  try {
    const parameters = sender.getParameters() as RTCRtpSendParameters & { degradationPreference?: string };
    parameters.degradationPreference = 'maintain-resolution';
    await sender.setParameters(parameters);
  } catch {
    // Not supported here: contentHint 'detail' already leans the same way.
  }
}
