/** Minimal RTP packet generator: enough for mediasoup to parse, forward and (for VP8) see keyframes. */
export interface RtpStream {
  ssrc: number;
  payloadType: number;
  clockRate: number;
  seq: number;
  timestamp: number;
}

export function rtpPacket(stream: RtpStream, payload: Buffer, marker = true): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80; // version 2, no padding, no extension, no CSRC
  header[1] = (marker ? 0x80 : 0) | stream.payloadType;
  header.writeUInt16BE(stream.seq & 0xffff, 2);
  header.writeUInt32BE(stream.timestamp >>> 0, 4);
  header.writeUInt32BE(stream.ssrc >>> 0, 8);
  stream.seq++;
  return Buffer.concat([header, payload]);
}

/** A VP8 keyframe: payload descriptor (S=1, partition 0) then a keyframe header with 640x480. */
export function vp8KeyframePayload(): Buffer {
  const descriptor = Buffer.from([0x10]);
  const frameTag = Buffer.from([0x10, 0x02, 0x00]); // key_frame=0 (means key), show_frame=1
  const startCode = Buffer.from([0x9d, 0x01, 0x2a]);
  const size = Buffer.alloc(4);
  size.writeUInt16LE(640, 0);
  size.writeUInt16LE(480, 2);
  return Buffer.concat([descriptor, frameTag, startCode, size, Buffer.alloc(200, 0xab)]);
}

/** An opus frame of silence-like bytes (mediasoup forwards opus without decoding it). */
export function opusPayload(): Buffer {
  return Buffer.concat([Buffer.from([0xfc]), Buffer.alloc(60, 0x55)]);
}

export function parseRtpHeader(packet: Buffer): { payloadType: number; ssrc: number; seq: number } | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  const payloadType = packet[1]! & 0x7f;
  if (payloadType >= 72 && payloadType <= 79) return undefined; // RTCP
  return { payloadType, ssrc: packet.readUInt32BE(8), seq: packet.readUInt16BE(2) };
}
