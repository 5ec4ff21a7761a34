/**
 * The PROXY protocol (v1 text and v2 binary, as HAProxy, nginx `stream`, stunnel and most load
 * balancers send it): a TCP proxy prepends one header naming the client's address before the
 * connection's own bytes. It is read off the raw socket before HTTP (or TLS) sees a byte, and only on
 * connections from trusted proxies; anyone else is served as a direct client, so a client cannot
 * write its own header.
 */
import net from 'node:net';
import type { Logger } from '../log.ts';

export interface ProxyInfo {
  /** The client's address as the proxy saw it. */
  source: string;
  /** PROXY v2 reported that the client spoke TLS to the proxy. */
  tls: boolean;
}

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_MAX = 107;
const V2_MAX = 16 + 2048;
const PP2_TYPE_SSL = 0x20;

const infos = new WeakMap<object, ProxyInfo>();

/** What the PROXY header said about this connection (plain socket or the TLS socket over it). */
export function proxyInfo(socket: net.Socket | undefined | null): ProxyInfo | undefined {
  if (!socket) return undefined;
  return infos.get(socket) ?? infos.get((socket as { _parent?: object })._parent ?? {});
}

export type Parsed = { done: false } | { done: true; info: ProxyInfo | undefined; length: number } | { error: string };

/** Parses a header at the start of `data`: needs more bytes, done (info undefined: LOCAL/UNKNOWN, use the peer), or malformed. */
export function parseProxyHeader(data: Buffer): Parsed {
  const v2Prefix = data.subarray(0, Math.min(data.length, 12));
  if (V2_SIGNATURE.subarray(0, v2Prefix.length).equals(v2Prefix)) return data.length < 16 ? { done: false } : parseV2(data);
  const v1Prefix = data.subarray(0, Math.min(data.length, 6)).toString('latin1');
  if (!'PROXY '.startsWith(v1Prefix)) return { error: 'connection from a trusted proxy does not start with a PROXY header' };
  const end = data.indexOf('\r\n');
  if (end === -1) return data.length >= V1_MAX ? { error: 'PROXY v1 header too long' } : { done: false };
  const [, family, source, destination, sourcePort, destinationPort, extra] = data.subarray(0, end).toString('latin1').split(' ');
  if (family === 'UNKNOWN') return { done: true, info: undefined, length: end + 2 };
  const version = family === 'TCP4' ? 4 : family === 'TCP6' ? 6 : 0;
  const isPort = (p: string | undefined) => p !== undefined && /^\d{1,5}$/.test(p) && Number(p) <= 65535;
  if (!version || extra !== undefined || net.isIP(source ?? '') !== version || net.isIP(destination ?? '') !== version || !isPort(sourcePort) || !isPort(destinationPort)) {
    return { error: 'malformed PROXY v1 header' };
  }
  return { done: true, info: { source: source!, tls: false }, length: end + 2 };
}

function parseV2(data: Buffer): Parsed {
  const versionCommand = data[12]!;
  const family = data[13]! >> 4;
  const length = 16 + data.readUInt16BE(14);
  if (versionCommand >> 4 !== 2 || (versionCommand & 0xf) > 1) return { error: 'unsupported PROXY v2 version or command' };
  if (length > V2_MAX) return { error: 'PROXY v2 header too long' };
  if (data.length < length) return { done: false };
  // LOCAL (the proxy's own health check) or an address family without an IP: the peer is who it is.
  if ((versionCommand & 0xf) === 0 || (family !== 1 && family !== 2)) return { done: true, info: undefined, length };
  const addressBytes = family === 1 ? 12 : 36;
  if (length < 16 + addressBytes) return { error: 'PROXY v2 header too short for its addresses' };
  const source = family === 1 ? [...data.subarray(16, 20)].join('.') : ipv6Text(data.subarray(16, 32));
  return { done: true, info: { source, tls: v2SaysTls(data.subarray(16 + addressBytes, length)) }, length };
}

function ipv6Text(bytes: Buffer): string {
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}

/** PP2_TYPE_SSL with PP2_CLIENT_SSL set: the client connected to the proxy over TLS. */
function v2SaysTls(tlvs: Buffer): boolean {
  for (let at = 0; at + 3 <= tlvs.length; ) {
    const type = tlvs[at]!;
    const size = tlvs.readUInt16BE(at + 1);
    if (type === PP2_TYPE_SSL && size >= 1 && at + 3 < tlvs.length) return (tlvs[at + 3]! & 0x01) === 1;
    at += 3 + size;
  }
  return false;
}

/** Reads (and removes) the PROXY header at the start of `socket`; what follows is left unread for HTTP/TLS. */
function readHeader(socket: net.Socket, timeoutMs: number): Promise<ProxyInfo | undefined> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const finish = (outcome: () => void) => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('close', onClose);
      outcome();
    };
    const onClose = () => finish(() => reject(new Error('closed before its PROXY header')));
    const timer = setTimeout(() => finish(() => reject(new Error(`no PROXY header within ${timeoutMs} ms`))), timeoutMs);
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        buffered = Buffer.concat([buffered, chunk]);
        const parsed = parseProxyHeader(buffered);
        if ('error' in parsed) return finish(() => reject(new Error(parsed.error)));
        if (!parsed.done) continue;
        const rest = buffered.subarray(parsed.length);
        return finish(() => {
          if (rest.length > 0) socket.unshift(rest);
          resolve(parsed.info);
        });
      }
    };
    socket.on('readable', onReadable);
    socket.once('close', onClose);
  });
}

/**
 * Makes `server` (HTTP or HTTPS) read a PROXY header first on every connection from a trusted proxy
 * (`isProxy`), before its own connection handling sees the socket. A proxy connection without a
 * valid header in time is closed.
 */
export function acceptProxyProtocol(server: net.Server, options: { isProxy: (address: string | undefined) => boolean; timeoutMs: number; log: Logger }): void {
  const handlers = server.listeners('connection') as ((socket: net.Socket) => void)[];
  let warned = false;
  server.removeAllListeners('connection');
  server.on('connection', (socket: net.Socket) => {
    const handOver = () => {
      for (const handler of handlers) handler.call(server, socket);
    };
    if (!options.isProxy(socket.remoteAddress)) return handOver();
    socket.on('error', () => {}); // until HTTP takes the socket over, errors only end it
    readHeader(socket, options.timeoutMs).then(
      (info) => {
        if (info) infos.set(socket, info);
        if (!socket.destroyed) handOver();
      },
      (error: Error) => {
        // Once as a warning (a misconfigured proxy shows at once), then quietly.
        options.log[warned ? 'debug' : 'warn']({ peer: socket.remoteAddress, reason: error.message }, 'PROXY protocol: connection from a trusted proxy closed (PROXY_PROTOCOL=true expects a PROXY header first)');
        warned = true;
        socket.destroy();
      },
    );
  });
}
