import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { version, workerBin as defaultWorkerBin } from 'mediasoup';

/**
 * Which mediasoup-worker binary to run: MEDIASOUP_WORKER_BIN when set, else mediasoup's own
 * prebuilt download, else one built offline by scripts/mediasoup-worker/build.sh (cached per version).
 */
export function resolveWorkerBin(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MEDIASOUP_WORKER_BIN) return env.MEDIASOUP_WORKER_BIN;
  if (fs.existsSync(defaultWorkerBin)) return defaultWorkerBin;
  const cached = findCachedWorker(env);
  if (cached) return cached;
  throw new Error(
    `No mediasoup-worker binary found (looked at ${defaultWorkerBin} and the offline build cache). ` +
      'Reinstall with internet access (npm ci), or build one with `npm run worker:build`, or set MEDIASOUP_WORKER_BIN.',
  );
}

function findCachedWorker(env: NodeJS.ProcessEnv): string | undefined {
  const cacheRoot = env.PARLEY_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'parley');
  const dir = path.join(cacheRoot, 'mediasoup-worker');
  if (!fs.existsSync(dir)) return undefined;
  const revision = (name: string) => Number(name.slice(version.length + 2));
  const builds = fs
    .readdirSync(dir)
    .filter((name) => name.startsWith(`${version}-r`) && fs.existsSync(path.join(dir, name, 'mediasoup-worker')))
    .sort((a, b) => revision(b) - revision(a));
  return builds[0] ? path.join(dir, builds[0], 'mediasoup-worker') : undefined;
}
