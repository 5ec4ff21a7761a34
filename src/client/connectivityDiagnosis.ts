import { isPrivateIPv4 } from '../shared/addresses.ts';
import type { IceCandidate } from '../signaling/protocol.ts';

/**
 * What the connection check found, in words: which path a call will take and what to change when
 * none works. Pure (no DOM, no network), so it is unit-tested directly (test/client).
 */
export type Outcome = 'running' | 'udp' | 'tcp' | 'relay' | 'connected' | 'none' | 'error';

/** The paths the check tests, each on its own: direct UDP, direct TCP, and through the TURN relay. */
export type PathName = 'udp' | 'tcp' | 'relay';

export interface PathResult {
  path: PathName;
  /** 'not-offered': the server offers no relay (TURN_SECRET unset). */
  state: 'ok' | 'blocked' | 'not-offered';
  selected?: SelectedPath;
  /** For the relay: our relay candidate (how we reached the TURN server). */
  relay?: LocalCandidate;
}

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

/** How we reached the TURN server, in words: "TCP via turn:203.0.113.7:443?transport=tcp". */
export function describeRelay(relay: LocalCandidate | undefined): string {
  const parts = [relay?.relayProtocol?.toUpperCase(), relay?.url && `via ${relay.url}`].filter(Boolean);
  return parts.length > 0 ? `the relay server (${parts.join(' ')})` : 'the relay server';
}

/** One line per tested path, for the page: "UDP: works", "Relay (TURN): not set up on this server". */
export function describePaths(paths: PathResult[]): string[] {
  const label: Record<PathName, string> = { udp: 'UDP', tcp: 'TCP', relay: 'Relay (TURN)' };
  return paths.map((p) => {
    if (p.state === 'not-offered') return `${label[p.path]}: not set up on this server`;
    if (p.state === 'blocked') return `${label[p.path]}: blocked`;
    const how = p.path === 'relay' && p.relay?.relayProtocol ? ` (over ${p.relay.relayProtocol.toUpperCase()})` : '';
    return `${label[p.path]}: works${how}`;
  });
}

export function diagnose(input: {
  outcome: Exclude<Outcome, 'running' | 'error'>;
  selected?: SelectedPath;
  announced: IceCandidate[];
  pageHost: string;
  secure: boolean;
  /** Each path's result (absent: only the outcome is known). */
  paths?: PathResult[];
  /** The relay candidate a relayed test used. */
  relay?: LocalCandidate;
  /** The TURN URLs the server offers (empty: none). */
  relayUrls?: string[];
}): Report {
  const { outcome, selected, announced, pageHost } = input;
  const relayOffered = (input.relayUrls ?? []).length > 0 || input.paths?.some((p) => p.path === 'relay' && p.state !== 'not-offered') === true;
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
  } else if (outcome === 'relay') {
    headline = 'Relay only';
    detail = `Direct UDP and TCP to the media server are blocked from this network, but the test got through ${describeRelay(input.relay)}${selected ? ` to ${formatEndpoint(selected.address, selected.port)}` : ''}. Calls will go through the relay: they work, with a little more delay.`;
    advice.push(`If you run this server: make sure UDP and TCP ports ${RTC_RANGE} are open in its firewall (this check used ${portText}). If they are, this network blocks them (common in offices, hotels and schools), and calls from here use the relay.`);
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
    if (relayOffered) {
      const urls = (input.relayUrls ?? []).join(', ');
      advice.push(
        `The relay server${urls ? ` (${urls})` : ''} could not be reached either: open TURN_PORT (TCP, and UDP) in the server\u2019s firewall, or check that TURN_URLS name an address and port browsers reach. On a network that lets only HTTPS out, the relay must be on TCP port 443.`,
      );
    } else if (input.paths) {
      advice.push('For networks that let only HTTPS (TCP port 443) out, set up the relay: TURN_SECRET, with TURN_PORT=443 (see "Connect from anywhere" in the README).');
    }
  }

  if (!input.secure) advice.push(insecureAdvice());
  return { outcome, headline, detail, advice };
}

export function insecureAdvice(): string {
  return 'Camera and microphone need HTTPS: this page was opened over plain HTTP on an address other than localhost, so the browser blocks them. Enable HTTPS on the server (TLS_CERT and TLS_KEY, or a reverse proxy with TRUST_PROXY=true).';
}

/** The candidate pair the browser is using, from an RTCStatsReport (Chromium, Firefox, Safari), and the stats by id. */
function selectedPair(report: RTCStatsReport): { pair: Record<string, any>; byId: Map<string, Record<string, any>> } | undefined {
  const stats = [...report.values()] as Record<string, any>[];
  const byId = new Map(stats.map((s) => [s.id as string, s]));
  const pairId = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId)?.selectedCandidatePairId;
  const pair =
    (pairId && byId.get(pairId)) ??
    stats.find((s) => s.type === 'candidate-pair' && s.selected) ??
    stats.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
  return pair ? { pair, byId } : undefined;
}

/** The server end of the ICE candidate pair the browser is using. */
export function selectedPath(report: RTCStatsReport): SelectedPath | undefined {
  const found = selectedPair(report);
  const remote = found && found.byId.get(found.pair.remoteCandidateId);
  if (!remote) return undefined;
  return { protocol: String(remote.protocol ?? '').toLowerCase(), address: String(remote.address ?? remote.ip ?? ''), port: Number(remote.port) };
}

/** Our end of the pair in use: `type` is 'relay' when media goes through the TURN relay (`relayProtocol`: how we reach it). */
export interface LocalCandidate {
  type: string;
  relayProtocol: string | undefined;
  url: string | undefined;
}

export function selectedLocalCandidate(report: RTCStatsReport): LocalCandidate | undefined {
  const found = selectedPair(report);
  const local = found && found.byId.get(found.pair.localCandidateId);
  if (!local) return undefined;
  return {
    type: String(local.candidateType ?? ''),
    relayProtocol: local.relayProtocol ? String(local.relayProtocol).toLowerCase() : undefined,
    url: local.url ? String(local.url) : undefined,
  };
}
