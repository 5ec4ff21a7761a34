import { Device, type types } from 'mediasoup-client';
import type { IceCandidate, ReplyOf, RequestName, RequestOf } from '../signaling/protocol.ts';
import { CONNECT_TIMEOUT_MS, diagnose, insecureAdvice, selectedLocalCandidate, selectedPath, type PathName, type PathResult, type Report, type SelectedPath } from './connectivityDiagnosis.ts';
import { RequestError, SignalingClient } from './SignalingClient.ts';

/**
 * The connection check itself: opens a private probe room (joinProbe) with the ordinary signaling
 * protocol and tests UDP, TCP and the TURN relay each on its own against its one WebRTC transport
 * (a canvas video track: no camera permission needed). It reports which paths work, which one a call
 * will use, and the candidates the server announces.
 */

const REQUEST_TIMEOUT_MS = 8_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
    }),
  ]);
}

class CheckFailed extends Error {}

/** A moving test pattern: a real video track without asking for the camera. */
function testPattern(): { track: MediaStreamTrack; stop: () => void } {
  const canvas = document.createElement('canvas');
  canvas.width = 160;
  canvas.height = 90;
  const ctx = canvas.getContext('2d');
  let frame = 0;
  const draw = () => {
    if (!ctx) return;
    ctx.fillStyle = '#0e1116';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#5b8cff';
    ctx.fillRect((frame++ * 4) % canvas.width, 30, 30, 30);
  };
  draw();
  const timer = setInterval(draw, 100);
  const track = canvas.captureStream(10).getVideoTracks()[0];
  if (!track) throw new CheckFailed('This browser cannot make a test video track (canvas.captureStream).');
  return {
    track,
    stop: () => {
      clearInterval(timer);
      track.stop();
    },
  };
}

export interface CheckProgress {
  (step: string): void;
}

export interface CheckOutcome {
  report: Report;
  announced: IceCandidate[];
  selected?: SelectedPath;
  /** Each path tested on its own: UDP, TCP and (when the server offers one) the TURN relay. */
  paths: PathResult[];
  elapsedMs: number;
}

/** How often a path under test is looked at. */
const POLL_MS = 250;

/**
 * One path tested on its own, with a browser connection of its own to the probe's one server
 * transport: only the server's UDP (or TCP) candidates, or only relay candidates through the TURN
 * servers the server offers. What counts is ICE: a candidate pair that got answers (the media
 * server is ICE-lite and answers every path that reaches it). Nothing is sent to the server for
 * these connections (no DTLS connect, no producer): the test pattern is only there so the browser
 * negotiates and starts ICE.
 */
async function testPath(device: Device, params: ReplyOf<'createWebRtcTransport'>, path: PathName, track: MediaStreamTrack, cleanup: (() => void)[]): Promise<PathResult> {
  const iceCandidates = params.iceCandidates.filter((c) => (path === 'tcp' ? c.protocol === 'tcp' : c.protocol === 'udp'));
  if (iceCandidates.length === 0) return { path, state: 'blocked' };
  const transport = device.createSendTransport({
    id: params.id,
    iceParameters: params.iceParameters,
    iceCandidates,
    dtlsParameters: params.dtlsParameters,
    iceServers: path === 'relay' ? (params.iceServers ?? []) : [],
    iceTransportPolicy: path === 'relay' ? 'relay' : 'all',
  });
  cleanup.unshift(() => transport.close());
  transport.on('connect', (_parameters, callback) => callback());
  // Any id: the server never hears of this producer (and crypto.randomUUID needs a secure context).
  transport.on('produce', (_parameters, callback) => callback({ id: `probe-${path}-${Date.now()}` }));
  const deadline = performance.now() + CONNECT_TIMEOUT_MS;
  const copy = track.clone();
  cleanup.push(() => copy.stop());
  await withTimeout(transport.produce({ track: copy, stopTracks: false, encodings: [{ maxBitrate: 150_000 }], appData: { type: 'probe' } }), REQUEST_TIMEOUT_MS, 'Sending the test video');
  while (performance.now() < deadline && !transport.closed) {
    const stats = await transport.getStats();
    const selected = selectedPath(stats);
    if (selected) {
      const local = selectedLocalCandidate(stats);
      if (path !== 'relay' || local?.type === 'relay') return { path, state: 'ok', selected, relay: path === 'relay' ? local : undefined };
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return { path, state: 'blocked' };
}

export async function runCheck(progress: CheckProgress): Promise<CheckOutcome> {
  const started = performance.now();
  const secure = window.isSecureContext;
  const pageHost = location.hostname;
  let announced: IceCandidate[] = [];
  let paths: PathResult[] = [];
  const cleanup: (() => void)[] = [];
  const done = (report: Report, selected?: SelectedPath): CheckOutcome => ({ report, announced, selected, paths, elapsedMs: Math.round(performance.now() - started) });
  const failed = (detail: string, advice: string[]): CheckOutcome =>
    done({ outcome: 'error', headline: 'Could not run the check', detail, advice: secure ? advice : [...advice, insecureAdvice()] });

  if (typeof RTCPeerConnection === 'undefined') {
    return failed('This browser does not support WebRTC, which calls need.', ['Use a current version of Chrome, Edge, Firefox or Safari.']);
  }

  const signaling = new SignalingClient({ reconnection: false, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  cleanup.push(() => signaling.close());
  const request = async <E extends RequestName>(event: E, payload: RequestOf<E>): Promise<ReplyOf<E>> => {
    try {
      return await signaling.request(event, payload);
    } catch (error) {
      throw error instanceof RequestError ? new CheckFailed(`The server refused ${event}: ${error.message}`) : error;
    }
  };

  try {
    progress('Connecting to the server\u2026');
    signaling.connect();
    await signaling.whenConnected().catch((error: Error) => {
      throw new CheckFailed(`The signaling connection to this server failed (${error.message}).`);
    });

    // A private test room of one that the server makes for the check: no token, no password, no join budget.
    // Disconnecting the socket (cleanup) ends it.
    const { roomId } = await request('joinProbe', {});
    const { rtpCapabilities } = await request('getRouterRtpCapabilities', { roomId });
    let device: Device;
    try {
      device = new Device();
    } catch (error) {
      if ((error as Error).name === 'UnsupportedError') throw new CheckFailed('This browser is not supported for calls (it was not recognised as Chrome, Edge, Firefox or Safari).');
      throw error;
    }
    await device.load({ routerRtpCapabilities: rtpCapabilities as types.RtpCapabilities });

    const params = await request('createWebRtcTransport', { roomId, producing: true, consuming: false });
    announced = params.iceCandidates;
    const relayOffered = (params.iceServers ?? []).length > 0;
    progress(relayOffered ? 'Testing UDP, TCP and the relay server, each on its own\u2026' : 'Testing UDP and TCP to the media server, each on its own\u2026');

    const pattern = testPattern();
    cleanup.push(pattern.stop);
    const tested: PathName[] = relayOffered ? ['udp', 'tcp', 'relay'] : ['udp', 'tcp'];
    paths = await Promise.all(tested.map((path) => testPath(device, params, path, pattern.track, cleanup)));
    if (!relayOffered) paths.push({ path: 'relay', state: 'not-offered' });
    const relayUrls = (params.iceServers ?? []).flatMap((server) => server.urls);

    // What a call will use: the best path that works (a call tries them all at once and ICE picks).
    const best = (['udp', 'tcp', 'relay'] as const).map((name) => paths.find((p) => p.path === name && p.state === 'ok')).find((p) => p !== undefined);
    const outcome = best?.path ?? 'none';
    return done(diagnose({ outcome, selected: best?.selected, relay: best?.relay, paths, relayUrls, announced, pageHost, secure }), best?.selected);
  } catch (error) {
    const message = error instanceof CheckFailed ? error.message : `Something went wrong: ${(error as Error).message}.`;
    return failed(message, ['Reload the page to try again. If it keeps failing, the server log says more.']);
  } finally {
    for (const step of cleanup) {
      try {
        step();
      } catch {
        // Best effort: the page is done with all of it.
      }
    }
  }
}
