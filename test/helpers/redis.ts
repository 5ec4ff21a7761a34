import './watchdog.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePortRange } from './ports.ts';
import { waitFor } from './wait.ts';

export interface RedisHandle {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
  /** Starts it again on the same port after stop(). */
  restart(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** A real redis-server of our own on a free port, nothing on disk. */
export async function startRedis(): Promise<RedisHandle> {
  const port = await freePortRange(1);
  const launch = async () => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      await waitFor(() => canConnect(port), { timeoutMs: 15_000, what: `redis-server on ${port}` });
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return child;
  };
  const handle: RedisHandle = {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: await launch(),
    async stop() {
      const child = handle.process;
      // A process killed by a signal has signalCode set and exitCode null: both mean "already gone".
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    },
    async restart() {
      handle.process = await launch();
    },
  };
  return handle;
}
