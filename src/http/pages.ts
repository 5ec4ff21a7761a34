import crypto from 'node:crypto';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { roomIdSchema } from '../signaling/schemas.ts';
import type { RoomStateStore } from '../store/RoomStateStore.ts';
import { hashPassword } from '../auth/passwords.ts';
import { readForm } from './forms.ts';

const VIEWS = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../views');
const eta = new Eta({ views: VIEWS, cache: process.env.NODE_ENV !== 'development', autoEscape: true });

export interface PageDeps {
  store: RoomStateStore;
  registry: RoomRegistry;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

export function render(res: ServerResponse, status: number, view: string, data: Record<string, unknown> = {}): void {
  sendHtml(res, status, eta.render(view, data));
}

/** htmx asks for fragments; everyone else gets the whole page from the same route. */
const wantsFragment = (req: IncomingMessage) => req.headers['hx-request'] === 'true';

/** 96 random bits, URL-safe: unguessable, short enough to read out. */
export function mintRoomId(): string {
  return crypto.randomBytes(12).toString('base64url');
}

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
    const roomId = mintRoomId();
    await deps.store.registerRoom(roomId, password ? { passwordHash: await hashPassword(password) } : {});
    const data = { title: 'Parley', created: { roomId, link: `${origin}/r/${roomId}` } };
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
    const info = await deps.store.roomInfo(rawRoomId);
    if (!info && !deps.registry.get(rawRoomId)) {
      return render(res, 404, 'error', { title: 'Room not found', heading: 'This room does not exist', message: 'The link may be mistyped or the room may have expired. Ask for a new invite, or start a new call.' });
    }
    render(res, 200, 'room', { title: 'Parley call', roomId: rawRoomId, needsPassword: !!info?.passwordHash });
  },

  left(_req: IncomingMessage, res: ServerResponse, rawRoomId: string) {
    const roomId = roomIdSchema.safeParse(rawRoomId).success ? rawRoomId : undefined;
    render(res, 200, 'left', { title: 'You left the call', roomId });
  },
};
