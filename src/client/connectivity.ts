import Alpine from '@alpinejs/csp';
import { Device, type types } from 'mediasoup-client';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, IceCandidate, ReplyOf, RequestName, RequestOf, ServerToClientEvents } from '../signaling/protocol.ts';

/**
 * The connection check page: opens a private probe room (joinProbe) with the ordinary signaling protocol, sends a
 * canvas video track over one WebRTC transport (no camera permission needed), and reports which path
 * ICE picked (UDP, TCP or none) together with the candidates the server announces and what to change.
 */

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export type Outcome = 'running' | 'udp' | 'tcp' | 'connected' | 'none' | 'error';

export interface SelectedPath {
  protocol: string;
  address: string;
  port: number;
}

export interface Report {
  outcome: Outcome;
  headline: string;
  detail: string;
  advice: string[];
}

const REQUEST_TIMEOUT_MS = 8_000;
/** How long ICE and DTLS get to connect before we call it "nothing". */
export const CONNECT_TIMEOUT_MS = 8_000;
const RTC_RANGE = 'RTC_PORT..RTC_PORT+WORKERS-1';

// ——— Diagnosis (pure: no DOM, no network) ———

const PRIVATE_V4 = [/^10\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^169\.254\./, /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./];
const isIPv4 = (host: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
const isIPLiteral = (host: string) => isIPv4(host) || host.includes(':');
const isLoopback = (host: string) => host.startsWith('127.') || host === '::1' || host === 'localhost';
const isPrivate = (host: string) => PRIVATE_V4.some((re) => re.test(host)) || /^f[cd]/i.test(host) || /^fe80:/i.test(host);
const bare = (host: string) => host.replace(/^\[|\]$/g, '');

export function formatEndpoint(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

export function describeCandidate(c: { protocol: string; address: string; port: number }): string {
  return `${c.protocol.toUpperCase()} ${formatEndpoint(c.address, c.port)}`;
}

/**
 * Can a browser that reached the page at `pageHost` reach the announced address? 'no' and 'likely-not'
 * come with the reason in words; 'unknown' when the page was opened by name (we cannot resolve it).
 */
export function announcedReachability(announced: string, pageHost: string): { verdict: 'yes' | 'no' | 'unknown'; why: string } {
  const page = bare(pageHost);
  if (announced === page) return { verdict: 'yes', why: '' };
  if (isLoopback(announced) && !isLoopback(page)) return { verdict: 'no', why: 'it is a loopback address, only reachable on the server itself' };
  if (isIPLiteral(page)) return { verdict: 'no', why: `you reached this page at ${page}` };
  if (isPrivate(announced) && !isLoopback(page)) return { verdict: 'unknown', why: 'it is a private address, reachable only from the server\u2019s own network' };
  return { verdict: 'unknown', why: '' };
}

export function diagnose(input: { outcome: Exclude<Outcome, 'running' | 'error'>; selected?: SelectedPath; announced: IceCandidate[]; pageHost: string; secure: boolean }): Report {
  const { outcome, selected, announced, pageHost } = input;
  const ports = [...new Set(announced.map((c) => c.port))];
  const portText = ports.join(', ') || 'the media port';
  const addresses = [...new Set(announced.map((c) => c.address))];
  const advice: string[] = [];
  let headline: string;
  let detail: string;

  if (outcome === 'udp') {
    headline = 'UDP ok';
    detail = `Your browser reached the media server over UDP at ${selected ? formatEndpoint(selected.address, selected.port) : portText}. Calls will take the fastest path.`;
  } else if (outcome === 'tcp') {
    const udpPorts = [...new Set(announced.filter((c) => c.protocol === 'udp').map((c) => c.port))].join(', ') || portText;
    headline = 'TCP only';
    detail = `UDP to the media server is blocked, so the test fell back to TCP at ${selected ? formatEndpoint(selected.address, selected.port) : portText}. Calls work, but audio and video may lag on a busy network.`;
    advice.push(`UDP ${udpPorts} is blocked: open UDP ports ${RTC_RANGE} in the server\u2019s firewall (this check used ${udpPorts}).`);
    advice.push('If those ports are open already, the network you are on blocks UDP (common on office and hotel Wi-Fi); calls still work over TCP.');
  } else if (outcome === 'connected') {
    headline = 'Connected';
    detail = 'Your browser reached the media server, but this browser does not say whether over UDP or TCP.';
  } else {
    headline = 'Nothing got through';
    detail = `Your browser could not reach the media server at ${announced.map(describeCandidate).join(' or ') || 'any address'} within ${CONNECT_TIMEOUT_MS / 1000} seconds. Calls from this network will not connect.`;
    let addressSuspect = false;
    for (const address of addresses) {
      const { verdict, why } = announcedReachability(address, pageHost);
      if (verdict === 'no') {
        addressSuspect = true;
        advice.push(`The server announces ${address}, which your browser cannot reach (${why}): set ANNOUNCED_IP to the server\u2019s public address, the one browsers reach it at.`);
      } else if (verdict === 'unknown') {
        addressSuspect = true;
        advice.push(
          `The server announces ${address}${why ? `, ${why}` : ''}. If that is not the address browsers reach the server at, set ANNOUNCED_IP to the server\u2019s public address.`,
        );
      }
    }
    advice.push(`${addressSuspect ? 'If the address is right, open' : 'Open'} UDP and TCP ports ${RTC_RANGE} in the server\u2019s firewall (this check used ${portText}).`);
  }

  if (!input.secure) advice.push(insecureAdvice());
  return { outcome, headline, detail, advice };
}

function insecureAdvice(): string {
  return 'Camera and microphone need HTTPS: this page was opened over plain HTTP on an address other than localhost, so the browser blocks them. Enable HTTPS on the server (TLS_CERT and TLS_KEY, or a reverse proxy with TRUST_PROXY=true).';
}

/** The ICE candidate pair the browser is using, from an RTCStatsReport (Chromium, Firefox, Safari). */
export function selectedPath(report: RTCStatsReport): SelectedPath | undefined {
  const stats = [...report.values()] as Record<string, any>[];
  const byId = new Map(stats.map((s) => [s.id as string, s]));
  const pairId = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId)?.selectedCandidatePairId;
  const pair =
    (pairId && byId.get(pairId)) ??
    stats.find((s) => s.type === 'candidate-pair' && s.selected) ??
    stats.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
  const remote = pair && byId.get(pair.remoteCandidateId);
  if (!remote) return undefined;
  return { protocol: String(remote.protocol ?? '').toLowerCase(), address: String(remote.address ?? remote.ip ?? ''), port: Number(remote.port) };
}

// ——— The check itself ———

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

  const socket: ClientSocket = io({ transports: ['websocket', 'polling'], reconnection: false, timeout: REQUEST_TIMEOUT_MS, forceNew: true });
  cleanup.push(() => socket.disconnect());
  const request = async <E extends RequestName>(event: E, payload: RequestOf<E>): Promise<ReplyOf<E>> => {
    const emit = socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck as unknown as (e: E, p: RequestOf<E>) => Promise<ReplyOf<E> | { error: string }>;
    const reply = await emit.call(socket.timeout(REQUEST_TIMEOUT_MS), event, payload);
    if (reply && typeof reply === 'object' && 'error' in reply && typeof reply.error === 'string') throw new CheckFailed(`The server refused ${event}: ${reply.error}`);
    return reply as ReplyOf<E>;
  };

  try {
    progress('Connecting to the server\u2026');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error) => reject(new CheckFailed(`The signaling connection to this server failed (${error.message}).`)));
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

// ——— The page ———

Alpine.data('connectivity', () => ({
  running: false,
  outcome: 'running' as Outcome,
  headline: 'Checking\u2026',
  detail: 'Starting the check.',
  announced: [] as string[],
  path: '',
  advice: [] as string[],
  elapsed: '',

  init(this: any) {
    void this.run();
  },

  async run(this: any) {
    if (this.running) return;
    this.running = true;
    this.outcome = 'running';
    this.headline = 'Checking\u2026';
    this.detail = 'Starting the check.';
    this.advice = [];
    this.announced = [];
    this.path = '';
    this.elapsed = '';
    const result = await runCheck((step) => {
      this.detail = step;
    });
    this.outcome = result.report.outcome;
    this.headline = result.report.headline;
    this.detail = result.report.detail;
    this.advice = result.report.advice;
    this.announced = result.announced.map(describeCandidate);
    this.path = result.selected ? describeCandidate(result.selected) : result.report.outcome === 'none' ? 'No connection' : '';
    this.elapsed = `${(result.elapsedMs / 1000).toFixed(1)} s`;
    this.running = false;
    (window as unknown as { connectivityResult: unknown }).connectivityResult = result;
  },

  get statusClass() {
    const classes: Record<Outcome, string> = { running: 'is-running', udp: 'is-ok', tcp: 'is-warn', connected: 'is-ok', none: 'is-bad', error: 'is-bad' };
    return classes[this.outcome as Outcome];
  },
  get hasAnnounced() {
    return this.announced.length > 0;
  },
  get hasPath() {
    return this.path !== '';
  },
  get pathClass() {
    return this.outcome === 'none' ? '' : 'check-mono';
  },
  get hasElapsed() {
    return this.elapsed !== '';
  },
  get hasAdvice() {
    return this.advice.length > 0;
  },
  get busy() {
    return this.running ? 'true' : 'false';
  },
}));

Alpine.start();
