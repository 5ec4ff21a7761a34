import type { ServerResponse } from 'node:http';
import type { WorkerPool } from '../media/WorkerPool.ts';
import type { RoomStateStore } from '../store/RoomStateStore.ts';
import { TIMEOUTS } from '../timeouts.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/** 200 only when every media worker is up and the room state store answers in time. */
export async function readiness(pool: WorkerPool, store: RoomStateStore): Promise<{ ready: boolean; workers: boolean; store: boolean }> {
  const storeOk = await Promise.race([
    store.ping().then(() => true, () => false),
    new Promise<boolean>((resolve) => setTimeout(resolve, TIMEOUTS.readinessPingMs, false).unref()),
  ]);
  const workersOk = pool.healthy;
  return { ready: workersOk && storeOk, workers: workersOk, store: storeOk };
}
