import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import type { WorkerPool } from '../media/WorkerPool.ts';
import type { Metrics } from '../metrics.ts';
import { isLocalRequest, type RateLimits } from '../signaling/rateLimits.ts';
import { clientIpOf } from '../signaling/SignalingServer.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { RoomStateStore } from '../store/RoomStateStore.ts';
import { readiness, sendJson } from './health.ts';
import { pages, render } from './pages.ts';
import { setSecurityHeaders } from './security.ts';
import { serveStatic } from './static.ts';

const PUBLIC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../public');

export interface HttpDeps {
  pool: WorkerPool;
  store: RoomStateStore;
  registry: RoomRegistry;
  metrics: Metrics;
  config: Pick<Config, 'tls' | 'trustProxy' | 'authSecret' | 'authPublicKey'>;
  limits: RateLimits;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function createRequestHandler(deps: HttpDeps): RequestHandler {
  const pageDeps = { store: deps.store, registry: deps.registry, tokensRequired: !!(deps.config.authSecret || deps.config.authPublicKey) };
  return async (req, res) => {
    setSecurityHeaders(res, !!deps.config.tls);
    const url = new URL(req.url ?? '/', 'http://parley.invalid');
    const route = `${req.method} ${url.pathname}`;
    const origin = publicOrigin(req, deps.config);

    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const state = await readiness(deps.pool, deps.store);
      return sendJson(res, state.ready ? 200 : 503, state);
    }
    if (route === 'GET /metrics') {
      const body = await deps.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
      return void res.end(body);
    }
    if (route === 'GET /') return pages.home(req, res);
    if (route === 'POST /rooms') {
      const local = isLocalRequest(req, deps.config.trustProxy);
      if (!local && !(await deps.limits.take('roomsPerIp', clientIpOf(req, deps.config.trustProxy)))) {
        return render(res, 429, 'error', { title: 'Slow down', heading: 'Too many new rooms', message: 'You created many rooms in a short time. Wait a minute and try again.' });
      }
      return pages.createRoom(req, res, pageDeps, origin);
    }
    if (route === 'GET /join') return pages.join(req, res, url);
    if (route === 'GET /connectivity') return render(res, 200, 'connectivity', { title: 'Connection check' });
    const roomMatch = /^\/r\/([^/]*)(\/left)?\/?$/.exec(url.pathname);
    if (roomMatch && req.method === 'GET') {
      const roomId = safeDecode(roomMatch[1]!);
      return roomMatch[2] ? pages.left(req, res, roomId) : pages.room(req, res, pageDeps, roomId);
    }
    if (await serveStatic(PUBLIC, url.pathname, req, res)) return;
    render(res, 404, 'error', { title: 'Not found', heading: 'Page not found', message: 'There is nothing at this address.' });
  };
}

/** The origin users reach us at: X-Forwarded-* only count when TRUST_PROXY is set. */
export function publicOrigin(req: IncomingMessage, config: Pick<Config, 'tls' | 'trustProxy'>): string {
  const forwarded = (name: string) => {
    const value = req.headers[name];
    return config.trustProxy ? (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() : undefined;
  };
  const proto = forwarded('x-forwarded-proto') ?? (config.tls ? 'https' : 'http');
  const host = forwarded('x-forwarded-host') ?? req.headers.host ?? 'localhost';
  return `${proto === 'https' ? 'https' : 'http'}://${host}`;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
