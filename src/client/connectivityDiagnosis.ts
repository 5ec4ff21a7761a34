import { isPrivateIPv4 } from '../shared/addresses.ts';
import type { IceCandidate } from '../signaling/protocol.ts';

/**
 * What the connection check found, in words: which path a call will take and what to change when
 * none works. Pure (no DOM, no network), so it is unit-tested directly (test/client).
 */
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

/** How long ICE and DTLS get to connect before we call it "nothing". */
export const CONNECT_TIMEOUT_MS = 8_000;
const RTC_RANGE = 'RTC_PORT..RTC_PORT+WORKERS-1';

const isIPv4 = (host: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
const isIPLiteral = (host: string) => isIPv4(host) || host.includes(':');
const isLoopback = (host: string) => host.startsWith('127.') || host === '::1' || host === 'localhost';
const isPrivate = (host: string) => isPrivateIPv4(host) || /^f[cd]/i.test(host) || /^fe80:/i.test(host);
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

export function insecureAdvice(): string {
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

