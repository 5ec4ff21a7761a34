import { hashHostKey, mintHostKey } from '../auth/hostKeys.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { hashPassword } from '../auth/passwords.ts';
import { sendJson } from '../http/health.ts';
import { mintRoomId } from '../rooms/roomIds.ts';
import type { Services } from '../services.ts';
import { StoreUnavailableError } from '../store/RoomStateStore.ts';
import { bearerOf, secretsEqual } from '../admin/auth.ts';
import { openApiDocument } from './openapi.ts';
import { signRoomToken } from './roomTokens.ts';

export type ApiDeps = Pick<Services, 'config' | 'registry' | 'store' | 'moderation' | 'log'>;
export type ApiHandler = (req: IncomingMessage, res: ServerResponse, url: URL, origin: string) => Promise<boolean>;

export const MAX_BODY_BYTES = 4 * 1024;
/** How long the host link's token is valid (the server caps token lifetimes at AUTH_MAX_TOKEN_AGE). */
const HOST_TOKEN_TTL_SECONDS = 12 * 3600;
export const DEFAULT_END_REASON = 'The call was ended.';

export type ApiErrorCode = 'unauthorized' | 'not_found' | 'method_not_allowed' | 'invalid_body' | 'body_too_large' | 'unsupported_media_type' | 'unavailable';

class ApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly headers: Record<string, string>;
  constructor(status: number, code: ApiErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

const createRoomBody = z.strictObject({
  password: z.string().min(1).max(128).optional(),
  maxParticipants: z.number().int().min(1).max(10_000).optional(),
});

const roomIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The server API for integrators, under /api: off (404) without API_KEY. Every call but the OpenAPI
 * document needs `Authorization: Bearer <API_KEY>`. Replies are JSON; errors are `{error, code}`.
 */
export function createApiHandler(deps: ApiDeps): ApiHandler {
  const key = deps.config.apiKey;
  const log = deps.log.child({ component: 'api' });
  return async (req, res, url, origin) => {
    if (url.pathname !== '/api' && !url.pathname.startsWith('/api/')) return false;
    try {
      if (!key) throw new ApiError(404, 'not_found', 'no such endpoint');
      await route(req, res, url, origin, key);
    } catch (error) {
      if (error instanceof ApiError) {
        for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
        sendJson(res, error.status, { error: error.message, code: error.code });
      } else if (error instanceof StoreUnavailableError) {
        res.setHeader('retry-after', '5');
        sendJson(res, 503, { error: 'the room store is not answering, try again shortly', code: 'unavailable' });
      } else throw error;
    }
    return true;
  };

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, origin: string, apiKey: string): Promise<void> {
    const path = url.pathname.replace(/\/$/, '');
    if (path === '/api/openapi.json') {
      allow(req, ['GET', 'HEAD']);
      return sendJson(res, 200, openApiDocument(origin));
    }
    const bearer = bearerOf(req);
    if (bearer === undefined || !secretsEqual(bearer, apiKey)) throw new ApiError(401, 'unauthorized', bearer === undefined ? 'send Authorization: Bearer <API_KEY>' : 'wrong API key', { 'www-authenticate': 'Bearer realm="parley-api"' });

    if (path === '/api/rooms') {
      allow(req, ['GET', 'POST']);
      if (req.method === 'GET') {
        const rooms = [...deps.registry.rooms].filter((r) => r.policy.kind === 'call' && !r.closed).map((r) => ({ roomId: r.id, participants: r.peers.size }));
        return sendJson(res, 200, { rooms });
      }
      const body = createRoomBody.safeParse(await readJson(req));
      if (!body.success) throw new ApiError(400, 'invalid_body', body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
      const { password, maxParticipants } = body.data;
      const roomId = mintRoomId({ password: password !== undefined });
      const hostKey = mintHostKey();
      await deps.store.registerRoom(roomId, { ...(password ? { passwordHash: await hashPassword(password) } : {}), ...(maxParticipants ? { maxParticipants } : {}), hostKeyHash: hashHostKey(hostKey) });
      const url = `${origin}/r/${roomId}`;
      const hostUrl = await hostLink(url, roomId, hostKey);
      log.info({ roomId, password: !!password, maxParticipants }, 'room created through the API');
      res.setHeader('location', `/api/rooms/${roomId}`);
      return sendJson(res, 201, { roomId, url, hostUrl });
    }

    const one = /^\/api\/rooms\/([^/]+)$/.exec(path);
    if (one) {
      allow(req, ['GET', 'DELETE']);
      const roomId = decodeURIComponent(one[1]!);
      if (!roomIdPattern.test(roomId)) throw new ApiError(404, 'not_found', 'no such room');
      const room = deps.registry.get(roomId);
      const live = room && !room.closed && room.policy.kind === 'call' ? room : undefined;
      if (req.method === 'DELETE') {
        const reason = (url.searchParams.get('reason') ?? '').trim().slice(0, 200) || DEFAULT_END_REASON;
        if (!deps.moderation.endRoom(roomId, reason)) throw new ApiError(404, 'not_found', 'no live call with this id');
        log.info({ roomId, reason }, 'call ended through the API');
        res.writeHead(204, { 'cache-control': 'no-store' });
        return void res.end();
      }
      const info = live ? undefined : await deps.store.roomInfo(roomId);
      if (!live && !info) throw new ApiError(404, 'not_found', 'no such room');
      const participants = live ? [...live.peers.values()].map((p) => ({ userId: p.userId, userName: p.userName, role: p.role })) : [];
      return sendJson(res, 200, { roomId, live: !!live, participants });
    }
    throw new ApiError(404, 'not_found', 'no such endpoint');
  }

  /** The room link, with a signed host token when this server signs its own (AUTH_SECRET). */
  /** The link that makes its opener the room's host: a signed host token, else the host key in the fragment. */
  async function hostLink(url: string, roomId: string, hostKey: string): Promise<string> {
    const { authSecret, authAudience, authIssuer, authMaxTokenAgeSeconds } = deps.config;
    if (!authSecret) return `${url}#host=${hostKey}`;
    const ttl = authMaxTokenAgeSeconds > 0 ? Math.min(HOST_TOKEN_TTL_SECONDS, authMaxTokenAgeSeconds) : HOST_TOKEN_TTL_SECONDS;
    const token = await signRoomToken(authSecret, { room: roomId, name: 'Host', role: 'host' }, ttl, { audience: authAudience, issuer: authIssuer });
    return `${url}?token=${encodeURIComponent(token)}`;
  }
}

function allow(req: IncomingMessage, methods: string[]): void {
  if (!methods.includes(req.method ?? '')) throw new ApiError(405, 'method_not_allowed', `use ${methods.join(' or ')}`, { allow: methods.join(', ') });
}

/** The request's JSON body ({} when empty); only application/json, at most MAX_BODY_BYTES. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new ApiError(413, 'body_too_large', `the body may be at most ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'body_too_large', `the body may be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new ApiError(415, 'unsupported_media_type', 'send the body as application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'invalid_body', 'the body is not valid JSON');
  }
}
