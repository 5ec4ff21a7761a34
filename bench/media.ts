/**
 * Media benchmark: one VP8 producer on a PlainTransport, fed with generated RTP at a fixed bitrate,
 * and K consumers (each on its own PlainTransport) forwarding to one local UDP sink. Reports what the
 * worker spent (getResourceUsage) and how many packets it forwarded.
 */
import dgram from 'node:dgram';
import type { types } from 'mediasoup';
import type { Parley } from '../src/app.ts';
import { connectClient } from '../test/helpers/client.ts';
import { videoRtpParameters } from '../test/helpers/fixtures.ts';
import { rtpPacket, vp8KeyframePayload, type RtpStream } from '../test/helpers/rtp.ts';
import { sleep } from './lib.ts';

export interface MediaResult {
  consumers: number;
  seconds: number;
  sentPps: number;
  sentKbps: number;
  forwardedPps: number;
  receivedPps: number;
  workerCpuPercent: number;
  workerMaxRssMb: number;
}

function bindUdp(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    // A big receive buffer (capped by net.core.rmem_max): the sink takes K × the producer's rate.
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

/** Worker CPU time so far, in ms (user + system). */
async function cpuMs(worker: types.Worker): Promise<number> {
  const usage = await worker.getResourceUsage();
  return usage.ru_utime + usage.ru_stime;
}

export async function mediaBench(server: Parley, options: { consumers: number; seconds: number; kbps: number; packetBytes?: number }): Promise<MediaResult> {
  const roomId = `bench-media-${options.consumers}`;
  await server.store.registerRoom(roomId); // rooms exist only once minted
  const host = await connectClient(server.url);
  await host.ok('joinRoom', { roomId, userId: host.userId, userName: 'Bench host' });
  const room = server.registry.get(roomId)!;
  const router = room.router;
  const worker = room.mediaWorker.worker;

  const ingress = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  const rtpParameters = videoRtpParameters();
  const producer = await ingress.produce({ kind: 'video', rtpParameters });

  const sink = await bindUdp();
  let received = 0;
  sink.on('message', () => void received++);
  const egress: types.PlainTransport[] = [];
  const consumers: types.Consumer[] = [];
  for (let i = 0; i < options.consumers; i++) {
    const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
    await transport.connect({ ip: '127.0.0.1', port: sink.address().port });
    egress.push(transport);
    consumers.push(await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities, paused: false }));
  }

  // Every packet a VP8 key frame start (the SFU forwards to new consumers from a key frame on).
  const packetBytes = options.packetBytes ?? 1100;
  const payload = Buffer.concat([vp8KeyframePayload(), Buffer.alloc(Math.max(0, packetBytes - 12 - vp8KeyframePayload().length), 0xab)]);
  const pps = (options.kbps * 1000) / 8 / (payload.length + 12);
  const stream: RtpStream = { ssrc: rtpParameters.encodings![0]!.ssrc!, payloadType: rtpParameters.codecs[0]!.payloadType, clockRate: 90000, seq: 1, timestamp: 1000 };
  const sender = await bindUdp();
  let sent = 0;
  let sending = true;
  const started = performance.now();
  const pump = (async () => {
    while (sending) {
      const due = Math.floor(((performance.now() - started) / 1000) * pps);
      while (sent < due) {
        sender.send(rtpPacket(stream, payload), ingress.tuple.localPort, '127.0.0.1');
        stream.timestamp += 3000;
        sent++;
      }
      await sleep(5);
    }
  })();

  const outbound = async () => {
    let total = 0;
    for (const consumer of consumers) total += (await consumer.getStats()).find((s) => s.type === 'outbound-rtp')?.packetCount ?? 0;
    return total;
  };

  await sleep(1000); // warm-up: consumers see their first key frame
  const t0 = performance.now();
  const [cpu0, out0, sent0, recv0] = [await cpuMs(worker), await outbound(), sent, received];
  await sleep(options.seconds * 1000);
  const elapsedWall = (performance.now() - t0) / 1000;
  const [cpu1, out1, sent1, recv1] = [await cpuMs(worker), await outbound(), sent, received];
  const usage = await worker.getResourceUsage();
  sending = false;
  await pump;

  sender.close();
  sink.close();
  for (const t of egress) t.close();
  ingress.close();
  host.close();

  return {
    consumers: options.consumers,
    seconds: elapsedWall,
    sentPps: (sent1 - sent0) / elapsedWall,
    sentKbps: ((sent1 - sent0) * (payload.length + 12) * 8) / 1000 / elapsedWall,
    forwardedPps: (out1 - out0) / elapsedWall,
    receivedPps: (recv1 - recv0) / elapsedWall,
    workerCpuPercent: ((cpu1 - cpu0) / (elapsedWall * 1000)) * 100,
    workerMaxRssMb: usage.ru_maxrss / 1024,
  };
}
