/**
 * The call benchmark's media, made at bench time with Debian's ffmpeg (libvpx, libopus): 10 s of a
 * test pattern as three VP8 layers (180p/360p/720p, 30 fps, a key frame every 2 s, constant bitrate),
 * each with three temporal layers like a browser's L1T3 (7.5 / 15 / 30 fps), and 10 s of a sine as
 * 20 ms Opus packets, read back into frames and packets.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface VideoLayer {
  height: number;
  kbps: number;
  /** One encoded VP8 frame per entry (no hidden frames), 30 per second. */
  frames: Buffer[];
}

export interface Media {
  /** Lowest first: spatial layer 0, 1, 2. */
  layers: VideoLayer[];
  /** 20 ms Opus packets. */
  audio: Buffer[];
}

export const FPS = 30;
/** Frames from one key frame to the next (2 s). */
export const GOP = 60;
const SECONDS = 10;
/**
 * libvpx's 3-layer pattern (ts_layering_mode 3): frame i is in temporal layer PATTERN[i % 4], and every
 * frame references only the last layer-0 frame, so each one is a layer sync point (the Y bit).
 */
const TEMPORAL_PATTERN = [0, 2, 1, 2] as const;
export const temporalLayerOf = (frameIndex: number): number => TEMPORAL_PATTERN[frameIndex % TEMPORAL_PATTERN.length]!;
/** Share of a layer's bitrate up to temporal layer 0, 1, 2 (cumulative, as libvpx wants it). */
const TEMPORAL_SHARES = [0.4, 0.6, 1];
const LAYERS = [
  { width: 320, height: 180, kbps: 150 },
  { width: 640, height: 360, kbps: 500 },
  { width: 1280, height: 720, kbps: 1500 },
];

/** Encodes the media into a fresh temp dir (a few seconds of CPU), parses it, and removes the dir. */
export function makeMedia(): Media {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-call-'));
  try {
    // Realtime, no alt-ref/lag: every IVF frame is a shown frame, so 1 frame = 1 RTP timestamp.
    const vp8 = `-c:v libvpx -deadline realtime -cpu-used 8 -g ${GOP} -keyint_min ${GOP} -auto-alt-ref 0 -lag-in-frames 0 -error-resilient 1 -pix_fmt yuv420p`.split(' ');
    const split = LAYERS.map((_, i) => `[v${i}]`).join('');
    const scales = LAYERS.map((l, i) => `[v${i}]scale=${l.width}:${l.height}[s${i}]`).join(';');
    const outputs = LAYERS.flatMap((l, i) => {
      const rate = `${l.kbps}k`;
      const temporal = [
        'ts_number_layers=3',
        `ts_target_bitrate=${TEMPORAL_SHARES.map((share) => Math.round(l.kbps * share)).join(',')}`,
        'ts_rate_decimator=4,2,1',
        `ts_periodicity=${TEMPORAL_PATTERN.length}`,
        `ts_layer_id=${TEMPORAL_PATTERN.join(',')}`,
        'ts_layering_mode=3',
      ].join(':');
      return ['-map', `[s${i}]`, ...vp8, '-b:v', rate, '-minrate', rate, '-maxrate', rate, '-bufsize', rate, '-ts-parameters', temporal, '-f', 'ivf', path.join(dir, `l${i}.ivf`)];
    });
    ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${FPS}:duration=${SECONDS}`, '-filter_complex', `[0:v]split=${LAYERS.length}${split};${scales}`, ...outputs]);
    const ogg = path.join(dir, 'audio.ogg');
    ffmpeg(['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`, '-c:a', 'libopus', '-b:a', '32k', '-frame_duration', '20', '-application', 'voip', '-ac', '1', ogg]);
    const layers = LAYERS.map((l, i) => ({ height: l.height, kbps: l.kbps, frames: readIvf(fs.readFileSync(path.join(dir, `l${i}.ivf`))) }));
    // The replayer switches layers frame for frame: every layer needs every frame, key frames alike.
    const keys = (layer: VideoLayer) => layer.frames.flatMap((frame, i) => (isKeyFrame(frame) ? [i] : [])).join(',');
    for (const layer of layers) {
      // Key frames must start a temporal pattern, or a receiver switched there would see a broken one.
      const misplaced = layer.frames.findIndex((frame, i) => isKeyFrame(frame) && temporalLayerOf(i) !== 0);
      if (misplaced >= 0) throw new Error(`key frame ${misplaced} at ${layer.height}p is not in temporal layer 0`);
      if (layer.frames.length !== FPS * SECONDS || keys(layer) !== keys(layers[0]!)) {
        throw new Error(`ffmpeg made ${layer.frames.length} frames (key frames ${keys(layer)}) at ${layer.height}p, want ${FPS * SECONDS} (key frames ${keys(layers[0]!)})`);
      }
    }
    return { layers, audio: readOggPackets(fs.readFileSync(ogg)).slice(2) }; // OpusHead, OpusTags
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** IVF: a file header (its length at byte 6), then per frame a 12-byte header (u32le size, u64le pts) and the frame. */
export function readIvf(file: Buffer): Buffer[] {
  if (file.toString('latin1', 0, 4) !== 'DKIF') throw new Error('not an IVF file');
  const frames: Buffer[] = [];
  for (let at = file.readUInt16LE(6); at + 12 <= file.length; ) {
    const size = file.readUInt32LE(at);
    frames.push(file.subarray(at + 12, at + 12 + size));
    at += 12 + size;
  }
  return frames;
}

/** Ogg: the packets of all pages, joined across lacing segments (a segment < 255 bytes ends a packet). */
export function readOggPackets(file: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  for (let at = 0; at + 27 <= file.length; ) {
    if (file.toString('latin1', at, at + 4) !== 'OggS') throw new Error(`bad Ogg page at ${at}`);
    const segments = file[at + 26]!;
    let data = at + 27 + segments;
    for (let i = 0; i < segments; i++) {
      const length = file[at + 27 + i]!;
      pending.push(file.subarray(data, data + length));
      data += length;
      if (length < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    at = data;
  }
  return packets;
}

/** VP8 key frame: the P bit of the frame tag is 0. */
export const isKeyFrame = (frame: Buffer) => (frame[0]! & 1) === 0;
