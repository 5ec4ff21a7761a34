import crypto from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.ts';
import type { Metrics } from '../metrics.ts';

/** `Authorization: Bearer <token>`, compared in constant time. */
function bearerMatches(req: IncomingMessage, token: string): boolean {
  const given = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(token).digest();
  return crypto.timingSafeEqual(a, b) && given.length > 0;
}

async function sendMetrics(res: ServerResponse, metrics: Metrics): Promise<void> {
  const body = await metrics.registry.metrics();
  res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
  res.end(body);
}

/**
 * GET /metrics on the main port: only with METRICS_TOKEN set and presented as a bearer token; with
 * no token configured it does not exist there (404: use METRICS_PORT). True when it answered.
 */
export async function metricsOnMainPort(req: IncomingMessage, res: ServerResponse, metrics: Metrics, token: string | undefined): Promise<boolean> {
  if (token === undefined) return false;
  if (!bearerMatches(req, token)) {
    res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"', 'cache-control': 'no-store' });
    res.end('metrics need Authorization: Bearer <METRICS_TOKEN>\n');
    return true;
  }
  await sendMetrics(res, metrics);
  return true;
}

/**
 * The metrics listener (METRICS_PORT on METRICS_HOST, loopback by default): GET /metrics and nothing
 * else; METRICS_TOKEN, when set, is required here too.
 */
export async function startMetricsListener(options: Config['metrics'], metrics: Metrics): Promise<{ server: http.Server; url: string } | undefined> {
  if (options.port === undefined) return undefined;
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://parley.invalid').pathname;
    const answer = async () => {
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        return void res.end('not found\n');
      }
      if (options.token !== undefined) await metricsOnMainPort(req, res, metrics, options.token);
      else await sendMetrics(res, metrics);
    };
    answer().catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('metrics failed\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { server, url: `http://${host}:${address.port}` };
}
