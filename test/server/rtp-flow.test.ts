import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, test } from 'node:test';
import type { types } from 'mediasoup';
import type { Parley } from '../../src/app.ts';
import { connectClient } from '../helpers/client.ts';
import { audioRtpParameters, videoRtpParameters } from '../helpers/fixtures.ts';
import { opusPayload, parseRtpHeader, rtpPacket, vp8KeyframePayload, type RtpStream } from '../helpers/rtp.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

let server: Parley;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

function bindUdp(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

/**
 * RTP really flows through the SFU: a generator feeds a PlainTransport producer in a room's router,
 * a PlainTransport consumer forwards it to a UDP socket, and we count what arrives.
 */
for (const kind of ['video', 'audio'] as const) {
  test(`${kind} RTP packets pass through the room's router`, async (t) => {
    const roomId = `rtp-${kind}`;
    const client = await connectClient(server.url);
    t.after(() => client.close());
    await server.store.registerRoom(roomId); // rooms exist only once minted
    await client.ok('joinRoom', { roomId, userId: client.userId, userName: 'Host' });
    const router = server.registry.get(roomId)!.router;

    const ingress = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
    t.after(() => ingress.close());
    const rtpParameters = kind === 'video' ? videoRtpParameters() : audioRtpParameters();
    const ssrc = rtpParameters.encodings![0]!.ssrc!;
    const producer = await ingress.produce({ kind, rtpParameters });

    const egress = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
    t.after(() => egress.close());
    const receiver = await bindUdp();
    t.after(() => receiver.close());
    await egress.connect({ ip: '127.0.0.1', port: receiver.address().port });
    const consumer: types.Consumer = await egress.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities, paused: false });
    const expected = { payloadType: consumer.rtpParameters.codecs[0]!.payloadType, ssrc: consumer.rtpParameters.encodings![0]!.ssrc! };
    const seen = new Set<number>();
    receiver.on('message', (packet) => {
      const header = parseRtpHeader(packet);
      if (header && header.ssrc === expected.ssrc && header.payloadType === expected.payloadType) seen.add(header.seq);
    });

    const sender = await bindUdp();
    t.after(() => sender.close());
    const stream: RtpStream = { ssrc, payloadType: rtpParameters.codecs[0]!.payloadType, clockRate: kind === 'video' ? 90000 : 48000, seq: 1000, timestamp: 5000 };
    const sent = 200;
    for (let i = 0; i < sent; i++) {
      const payload = kind === 'video' ? vp8KeyframePayload() : opusPayload();
      sender.send(rtpPacket(stream, payload), ingress.tuple.localPort, '127.0.0.1');
      stream.timestamp += kind === 'video' ? 3000 : 960;
      // Paced like a real sender (~1,000 packets/s): a loopback UDP socket buffer holds only ~90 small
      // packets, so an unpaced burst on a busy machine is dropped by the kernel before the worker reads it.
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 10));
    }

    await waitFor(() => seen.size >= sent * 0.95, { what: `${sent} forwarded ${kind} packets`, timeoutMs: 10_000 }).catch(async (error: Error) => {
      const [stats] = await producer.getStats();
      throw new Error(`${error.message}: received ${seen.size}, producer counted ${stats?.packetCount}`);
    });
    const [producerStats] = await producer.getStats();
    assert.ok(producerStats!.packetCount >= sent * 0.95, `producer counted ${producerStats!.packetCount}`);
    const consumerStats = (await consumer.getStats()).find((s) => s.type === 'outbound-rtp');
    assert.ok(consumerStats!.packetCount >= sent * 0.95, `consumer counted ${consumerStats!.packetCount}`);
    assert.notEqual(expected.ssrc, ssrc, 'the SFU rewrites the SSRC per consumer');
  });
}
