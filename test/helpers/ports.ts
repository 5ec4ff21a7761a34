import dgram from 'node:dgram';
import net from 'node:net';

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '0.0.0.0', () => socket.close(() => resolve(true)));
  });
}

/** First port of `count` consecutive ports free on both UDP and TCP. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    // Below Linux's ephemeral range (32768+), where outgoing connections would race us for the port.
    const base = 20000 + Math.floor(Math.random() * (12000 - count));
    let ok = true;
    for (let port = base; port < base + count && ok; port++) ok = (await tcpFree(port)) && (await udpFree(port));
    if (ok) return base;
  }
  throw new Error('no free port range');
}
