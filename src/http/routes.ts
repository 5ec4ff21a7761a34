import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createAdminHandler } from '../admin/routes.ts';
import { createApiHandler } from '../api/routes.ts';
import type { Services } from '../services.ts';
import { readiness, sendJson } from './health.ts';
import { metricsOnMainPort } from './metricsEndpoint.ts';
import { pages, render } from './pages.ts';
import { setSecurityHeaders } from './security.ts';
import { serveStatic } from './static.ts';

const PUBLIC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../public');

export type HttpDeps = Pick<Services, 'pool' | 'store' | 'registry' | 'metrics' | 'config' | 'limits' | 'clients' | 'moderation' | 'statsHistory' | 'log'>;

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function createRequestHandler(deps: HttpDeps): RequestHandler {
  const pageDeps = { store: deps.store, registry: deps.registry, tokensRequired: !!(deps.config.authSecret || deps.config.authPublicKey) };
  const admin = createAdminHandler(deps);
  const api = createApiHandler(deps);
  return async (req, res) => {
    setSecurityHeaders(res, !!deps.config.tls);
    const url = new URL(req.url ?? '/', 'http://parley.invalid');
    const route = `${req.method} ${url.pathname}`;
    const client = deps.clients.resolve(req);

    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const state = await readiness(deps.pool, deps.store);
      return sendJson(res, state.ready ? 200 : 503, { ...state, node: deps.config.nodeId });
    }
    if (route === 'GET /metrics' && (await metricsOnMainPort(req, res, deps.metrics, deps.config.metrics.token))) return;
    if (route === 'GET /') return pages.home(req, res);
    if (route === 'POST /rooms') {
      if (!client.exempt && !(await deps.limits.take('roomsPerIp', client.ip))) {
        return render(res, 429, 'error', { title: 'Slow down', heading: 'Too many new rooms', message: 'You created many rooms in a short time. Wait a minute and try again.' });
      }
      return pages.createRoom(req, res, pageDeps, deps.clients.publicOrigin(req, deps.config.tls));
    }
    if (route === 'GET /join') return pages.join(req, res, url);
    const from = { origin: deps.clients.publicOrigin(req, deps.config.tls), clientIp: client.ip };
    if ((await admin(req, res, url, from)) || (await api(req, res, url, from.origin))) return;
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

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
