import { Device, type types } from 'mediasoup-client';
import type { IceCandidate, ReplyOf, RequestName, RequestOf } from '../signaling/protocol.ts';
import { CONNECT_TIMEOUT_MS, diagnose, insecureAdvice, selectedPath, type Report, type SelectedPath } from './connectivityDiagnosis.ts';
import { RequestError, SignalingClient } from './SignalingClient.ts';

/**
 * The connection check itself: opens a private probe room (joinProbe) with the ordinary signaling
 * protocol, sends a canvas video track over one WebRTC transport (no camera permission needed), and
 * reports which path ICE picked (UDP, TCP or none) together with the candidates the server announces.
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
  elapsedMs: number;
}

export async function runCheck(progress: CheckProgress): Promise<CheckOutcome> {
  const started = performance.now();
  const secure = window.isSecureContext;
  const pageHost = location.hostname;
  let announced: IceCandidate[] = [];
  const cleanup: (() => void)[] = [];
  const done = (report: Report, selected?: SelectedPath): CheckOutcome => ({ report, announced, selected, elapsedMs: Math.round(performance.now() - started) });
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
    progress('Opening a test connection to the media server\u2026');
    const transport = device.createSendTransport(params);
    cleanup.unshift(() => transport.close());
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      request('connectWebRtcTransport', { transportId: transport.id, dtlsParameters }).then(() => callback(), errback);
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      request('produce', { transportId: transport.id, kind, rtpParameters, appData }).then(({ producerId }) => callback({ id: producerId }), errback);
    });
    const settled = new Promise<types.ConnectionState | 'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), CONNECT_TIMEOUT_MS);
      transport.on('connectionstatechange', (state) => {
        if (state === 'connected' || state === 'failed') {
          clearTimeout(timer);
          resolve(state);
        }
      });
    });

    const pattern = testPattern();
    cleanup.push(pattern.stop);
    await withTimeout(transport.produce({ track: pattern.track, stopTracks: false, encodings: [{ maxBitrate: 150_000 }], appData: { type: 'probe' } }), REQUEST_TIMEOUT_MS, 'Sending the test video');

    const state = await settled;
    if (state !== 'connected') return done(diagnose({ outcome: 'none', announced, pageHost, secure }));

    // Read the pair in use; give ICE a moment in case it settles on a better pair right after connecting.
    let selected = selectedPath(await transport.getStats());
    if (selected?.protocol !== 'udp') {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      selected = selectedPath(await transport.getStats()) ?? selected;
    }
    const outcome = selected?.protocol === 'udp' ? 'udp' : selected?.protocol === 'tcp' ? 'tcp' : 'connected';
    return done(diagnose({ outcome, selected, announced, pageHost, secure }), selected);
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

