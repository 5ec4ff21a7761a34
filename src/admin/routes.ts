import type { IncomingMessage, ServerResponse } from 'node:http';
import { readForm } from '../http/forms.ts';
import { sendJson } from '../http/health.ts';
import { render } from '../http/pages.ts';
import type { Services } from '../services.ts';
import { AdminAuth, isSameOriginPost } from './auth.ts';
import { formatBitrate, formatBytes, lineChart } from './charts.ts';
import { HISTORY_WINDOW_MS, type StatsHistory } from './history.ts';
import { collectLiveStats, type LiveStats } from './stats.ts';

export const REMOVED_REASON = 'An administrator removed you from this call.';
export const ENDED_REASON = 'An administrator ended this call.';

export type AdminDeps = Pick<Services, 'config' | 'registry' | 'pool' | 'moderation' | 'statsHistory' | 'log'>;

/** Answers /admin and everything under it; false for any other path. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse, url: URL, from: { origin: string; clientIp: string }) => Promise<boolean>;

const NOT_FOUND = { title: 'Not found', heading: 'Page not found', message: 'There is nothing at this address.' };

/**
 * The operator's page. Off (404, as if it did not exist) without ADMIN_TOKEN. People sign in with the
 * token and get a session cookie; scripts send `Authorization: Bearer <ADMIN_TOKEN>` (and may ask
 * for JSON). The live part is one fragment that htmx polls from the same route.
 */
export function createAdminHandler(deps: AdminDeps): AdminHandler {
  const token = deps.config.adminToken;
  const auth = token ? new AdminAuth(token) : undefined;
  const history = deps.statsHistory;
  const log = deps.log.child({ component: 'admin' });

  return async (req, res, url, { origin, clientIp }) => {
    if (url.pathname !== '/admin' && !url.pathname.startsWith('/admin/')) return false;
    if (!auth || !history) {
      render(res, 404, 'error', NOT_FOUND);
      return true;
    }
    const secure = origin.startsWith('https:');
    const route = `${req.method} ${url.pathname.replace(/\/$/, '') || '/'}`;
    const fragment = req.headers['hx-request'] === 'true';
    const wantsJson = /application\/json/.test(req.headers.accept ?? '') && !fragment;

    if (route === 'POST /admin/login') {
      if (!isSameOriginPost(req, origin)) {
        forbidden(res);
        return true;
      }
      const address = clientIp;
      if (auth.throttled(address)) {
        render(res, 429, 'admin-login', { title: 'Parley admin', loginError: 'Too many wrong tokens. Wait a few minutes and try again.' });
        return true;
      }
      const form = await readForm(req).catch(() => new URLSearchParams());
      const session = auth.signIn(form.get('token') ?? '', address);
      if (!session) {
        log.warn({ address }, 'admin sign-in refused');
        render(res, 401, 'admin-login', { title: 'Parley admin', loginError: 'That is not the admin token.' });
        return true;
      }
      log.info({ address }, 'admin signed in');
      res.writeHead(303, { location: '/admin', 'set-cookie': auth.setCookie(session, secure), 'cache-control': 'no-store' });
      res.end();
      return true;
    }
    if (route === 'POST /admin/logout') {
      if (!isSameOriginPost(req, origin)) {
        forbidden(res);
        return true;
      }
      auth.signOut(req, secure);
      res.writeHead(303, { location: '/admin', 'set-cookie': auth.clearCookie(secure), 'cache-control': 'no-store' });
      res.end();
      return true;
    }

    if (!auth.allows(req, secure)) {
      if (wantsJson || req.headers.authorization !== undefined) {
        res.setHeader('www-authenticate', 'Bearer realm="parley-admin"');
        sendJson(res, 401, { error: 'admin token required', code: 'unauthorized' });
      } else if (fragment) {
        // The session ended while the page was polling: htmx loads the sign-in page instead.
        res.writeHead(401, { 'hx-redirect': '/admin', 'cache-control': 'no-store' });
        res.end();
      } else {
        render(res, 401, 'admin-login', { title: 'Parley admin' });
      }
      return true;
    }

    if (route === 'GET /admin') {
      const live = await collectLiveStats(deps.registry, deps.pool);
      if (wantsJson) {
        sendJson(res, 200, { ...live, node: deps.config.nodeId, history: history.samples });
        return true;
      }
      render(res, 200, fragment ? 'partials/admin-live' : 'admin', viewModel(live, history, deps.config.nodeId));
      return true;
    }

    const action = /^POST \/admin\/rooms\/([A-Za-z0-9_-]{1,64})(?:\/participants\/([A-Za-z0-9_-]{1,64}))?\/(close|remove)$/.exec(route);
    if (action) {
      // A cookie alone does not authorise a change: the request must come from our own page.
      if (auth.viaCookie(req) && !isSameOriginPost(req, origin)) {
        forbidden(res);
        return true;
      }
      const [, roomId, userId, verb] = action as unknown as [string, string, string | undefined, string];
      let done = false;
      let notice: string;
      if (verb === 'close' && userId === undefined) {
        done = deps.moderation.endRoom(roomId, ENDED_REASON);
        notice = done ? `Call ${roomId} ended.` : `Call ${roomId} is not live any more.`;
      } else if (verb === 'remove' && userId !== undefined) {
        done = deps.moderation.removeParticipant(roomId, userId, REMOVED_REASON);
        notice = done ? `Removed ${userId} from ${roomId}.` : `${userId} is not in ${roomId} any more.`;
      } else {
        render(res, 404, 'error', NOT_FOUND);
        return true;
      }
      log.info({ roomId, userId, action: verb, done }, 'admin action');
      if (wantsJson || !fragment) {
        if (wantsJson || req.headers.authorization !== undefined) sendJson(res, done ? 200 : 404, done ? { ok: true } : { error: notice, code: 'not_found' });
        else {
          res.writeHead(303, { location: '/admin', 'cache-control': 'no-store' });
          res.end();
        }
        return true;
      }
      const live = await collectLiveStats(deps.registry, deps.pool);
      render(res, 200, 'partials/admin-live', { ...viewModel(live, history, deps.config.nodeId), notice });
      return true;
    }
    render(res, 404, 'error', NOT_FOUND);
    return true;
  };
}

function forbidden(res: ServerResponse): void {
  render(res, 403, 'error', { title: 'Forbidden', heading: 'Not allowed from here', message: 'Admin changes are only accepted from the admin page of this server.' });
}

const dash = '–';

/** What the templates print: every value already formatted. */
function viewModel(live: LiveStats, history: StatsHistory, nodeId: string) {
  const samples = history.samples;
  const now = live.at;
  const workerIndexes = [...new Set(samples.flatMap((s) => Object.keys(s.cpuPct).map(Number)))].sort((a, b) => a - b);
  const latestCpu = samples.at(-1)?.cpuPct ?? {};
  const charts = {
    bitrate: lineChart({
      title: 'Bitrate through the server',
      now,
      windowMs: HISTORY_WINDOW_MS,
      format: formatBitrate,
      minMax: 100_000,
      series: [
        { label: 'in', className: 'chart-line-1', points: samples.map((s) => [s.at, s.bitrateIn] as const) },
        { label: 'out', className: 'chart-line-2', points: samples.map((s) => [s.at, s.bitrateOut] as const) },
      ],
    }),
    participants: lineChart({
      title: 'Participants',
      now,
      windowMs: HISTORY_WINDOW_MS,
      format: (v) => String(Math.round(v)),
      minMax: 2,
      series: [{ label: 'participants', className: 'chart-line-3', points: samples.map((s) => [s.at, s.participants] as const) }],
    }),
    cpu: lineChart({
      title: 'Media worker CPU',
      now,
      windowMs: HISTORY_WINDOW_MS,
      format: (v) => `${Math.round(v)}%`,
      minMax: 10,
      series: workerIndexes.slice(0, 4).map((index, i) => ({
        label: `worker ${index}`,
        className: `chart-line-${i + 1}`,
        points: samples.filter((s) => s.cpuPct[index] !== undefined).map((s) => [s.at, s.cpuPct[index]!] as const),
      })),
    }),
  };
  return {
    title: 'Parley admin',
    node: nodeId,
    updatedAt: new Date(now).toISOString().slice(11, 19),
    pollSeconds: 5,
    totals: { rooms: live.rooms.length, participants: live.participants, bitrateIn: formatBitrate(live.bitrateIn), bitrateOut: formatBitrate(live.bitrateOut) },
    charts,
    cpuLegend: workerIndexes.slice(0, 4).map((index, i) => ({ label: `worker ${index}`, className: `chart-line-${i + 1}` })),
    workers: live.workers.map((w) => ({
      index: w.index,
      pid: w.pid ?? dash,
      alive: w.alive,
      cpu: latestCpu[w.index] !== undefined ? `${latestCpu[w.index]}%` : dash,
      cpuTime: `${Math.round(w.cpuSeconds)} s`,
      memory: w.maxRssBytes ? formatBytes(w.maxRssBytes) : dash,
      rooms: w.rooms,
      transports: w.transports,
      producers: w.producers,
      consumers: w.consumers,
    })),
    rooms: live.rooms.map((r) => ({
      id: r.id,
      worker: r.workers.join(', '),
      workerLabel: r.workers.length === 1 ? 'worker' : 'workers',
      count: r.participants.length,
      bitrateUp: formatBitrate(r.bitrateUp),
      bitrateDown: formatBitrate(r.bitrateDown),
      participants: r.participants.map((p) => ({
        userId: p.userId,
        userName: p.userName,
        role: p.role,
        quality: p.quality,
        score: p.score ?? dash,
        up: formatBitrate(p.bitrateUp),
        down: formatBitrate(p.bitrateDown),
        loss: p.packetLossPct !== undefined ? `${p.packetLossPct}%` : dash,
        rtt: p.rttMs !== undefined ? `${p.rttMs} ms` : dash,
        media: `${p.producers} / ${p.consumers}`,
      })),
    })),
  };
}
