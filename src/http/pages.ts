import crypto from 'node:crypto';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { hashHostKey, mintHostKey } from '../auth/hostKeys.ts';
import { Eta } from 'eta';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { roomIdSchema } from '../signaling/schemas.ts';
import { StoreUnavailableError, type RoomStateStore } from '../store/RoomStateStore.ts';
import { hashPassword, PasswordBusyError } from '../auth/passwords.ts';
import { assetUrl } from './assets.ts';
import { readForm } from './forms.ts';
import { contentSecurityPolicy } from './security.ts';
import { isPasswordRoomId, mintRoomId } from '../rooms/roomIds.ts';

const VIEWS = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../views');
const eta = new Eta({ views: VIEWS, cache: process.env.NODE_ENV !== 'development', autoEscape: true });

export interface PageDeps {
  store: RoomStateStore;
  registry: RoomRegistry;
  /** Signed room tokens decide who joins which room (AUTH_SECRET / AUTH_PUBLIC_KEY). */
  tokensRequired: boolean;
}

/** The room store (Redis) is down: a clear "try again" page, never a bare 500. */
function storeUnavailable(res: ServerResponse, fragment: boolean): void {
  res.setHeader('retry-after', '5');
  if (fragment) return render(res, 503, 'partials/create-error', { createError: 'Parley cannot reach its room service right now. Try again in a moment.' });
  render(res, 503, 'error', { title: 'Try again', heading: 'Parley is briefly unavailable', message: 'The room service is not answering right now. Your call link still works: reload this page in a moment.' });
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

export function render(res: ServerResponse, status: number, view: string, data: Record<string, unknown> = {}): void {
  const cspNonce = crypto.randomBytes(16).toString('base64');
  res.setHeader('content-security-policy', contentSecurityPolicy(cspNonce));
  // Templates link built assets by logical name: <script src="<%= it.asset('room.js') %>">.
  sendHtml(res, status, eta.render(view, { ...data, cspNonce, asset: assetUrl }));
}

/** JSON safe inside a <script type="application/json"> element (no "</script>" can close it early). */
function jsonForScript(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value).replace(/</g, '\\u003c');
}

/** htmx asks for fragments; everyone else gets the whole page from the same route. */
const wantsFragment = (req: IncomingMessage) => req.headers['hx-request'] === 'true';

/** Accepts a pasted invite link (any host) or a bare room code. */
export function roomIdFromInput(input: string): string | undefined {
  const trimmed = input.trim();
  const fromLink = /\/r\/([A-Za-z0-9_-]{1,64})(?:[/?#]|$)/.exec(trimmed)?.[1];
  const candidate = fromLink ?? trimmed;
  return roomIdSchema.safeParse(candidate).success ? candidate : undefined;
}

export const pages = {
  home(_req: IncomingMessage, res: ServerResponse) {
    render(res, 200, 'home', { title: 'Parley' });
  },

  async createRoom(req: IncomingMessage, res: ServerResponse, deps: PageDeps, origin: string) {
    const form = await readForm(req).catch(() => new URLSearchParams());
    const password = form.get('password') ?? '';
    if (password.length > 128) {
      return render(res, 400, wantsFragment(req) ? 'partials/create-error' : 'home', { title: 'Parley', createError: 'Passwords can be at most 128 characters.' });
    }
    const roomId = mintRoomId({ password: password !== '' });
    // The creator joins as the room's host: the key rides in the join link's fragment (never sent to a server).
    const hostKey = mintHostKey();
    try {
      await deps.store.registerRoom(roomId, { ...(password ? { passwordHash: await hashPassword(password) } : {}), hostKeyHash: hashHostKey(hostKey) });
    } catch (error) {
      if (error instanceof StoreUnavailableError) return storeUnavailable(res, wantsFragment(req));
      if (error instanceof PasswordBusyError) {
        res.setHeader('retry-after', '2');
        return render(res, 503, wantsFragment(req) ? 'partials/create-error' : 'home', { title: 'Parley', createError: 'Parley is busy right now. Try again in a moment.' });
      }
      throw error;
    }
    const data = { title: 'Parley', created: { roomId, link: `${origin}/r/${roomId}`, hostPath: `/r/${roomId}#host=${hostKey}` } };
    render(res, 201, wantsFragment(req) ? 'partials/created' : 'home', data);
  },

  join(_req: IncomingMessage, res: ServerResponse, url: URL) {
    const roomId = roomIdFromInput(url.searchParams.get('code') ?? '');
    if (!roomId) {
      return render(res, 400, 'home', { title: 'Parley', joinError: 'That is not a Parley link or room code.', code: url.searchParams.get('code') ?? '' });
    }
    res.writeHead(303, { location: `/r/${roomId}` });
    res.end();
  },

  async room(_req: IncomingMessage, res: ServerResponse, deps: PageDeps, rawRoomId: string) {
    if (!roomIdSchema.safeParse(rawRoomId).success) {
      return render(res, 400, 'error', { title: 'Invalid link', heading: 'This link is not valid', message: 'Room links look like /r/ followed by letters, digits, - or _. Check the link you were sent, or start a new call.' });
    }
    let info;
    try {
      info = await deps.store.roomInfo(rawRoomId);
    } catch (error) {
      if (error instanceof StoreUnavailableError) return storeUnavailable(res, false);
      throw error;
    }
    if (!info && isPasswordRoomId(rawRoomId)) {
      return render(res, 410, 'error', { title: 'Room no longer available', heading: 'This room is no longer available', message: 'It was protected by a password that this server no longer knows (it restarted, or the room expired). Ask for a new invite, or start a new call.' });
    }
    // With tokens, the token issuer names the rooms: any well-formed id is a room, the token decides at join.
    // Without, only minted rooms exist: a live room the store has forgotten takes no newcomers either.
    if (!info && !deps.tokensRequired) {
      return render(res, 404, 'error', { title: 'Room not found', heading: 'This room does not exist', message: 'The link may be mistyped or the room may have expired. Ask for a new invite, or start a new call.' });
    }
    // The media device loads from these before the person clicks Join (the same for every router).
    const rtpCapabilitiesJson = jsonForScript(deps.registry.routerRtpCapabilities);
    render(res, 200, 'room', { title: 'Parley call', roomId: rawRoomId, needsPassword: !!info?.passwordHash, rtpCapabilitiesJson });
  },

  left(_req: IncomingMessage, res: ServerResponse, rawRoomId: string) {
    const roomId = roomIdSchema.safeParse(rawRoomId).success ? rawRoomId : undefined;
    render(res, 200, 'left', { title: 'You left the call', roomId });
  },
};
