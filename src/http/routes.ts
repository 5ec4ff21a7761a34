import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WorkerPool } from '../media/WorkerPool.ts';
import type { RoomStateStore } from '../store/RoomStateStore.ts';
import { readiness, sendJson } from './health.ts';

export interface HttpDeps {
  pool: WorkerPool;
  store: RoomStateStore;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function createRequestHandler(deps: HttpDeps): RequestHandler {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://parley.invalid');
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const state = await readiness(deps.pool, deps.store);
      return sendJson(res, state.ready ? 200 : 503, state);
    }
    sendJson(res, 404, { error: 'not found' });
  };
}
