// Smoke test of a mediasoup-worker built by build.sh, driven by the mediasoup
// Node library installed in <repo>/node_modules.
//
//   node scripts/mediasoup-worker/smoke.mjs [path/to/mediasoup-worker]
//
// Binary: the argument, else $MEDIASOUP_WORKER_BIN, else `build.sh --print-path`.
// Checks: worker + router (opus, VP8) + WebRtcServer on a free port +
// WebRtcTransport; SRTP sessions for all four crypto suites (exercises the
// libsrtp3-on-libsrtp2 shim inside the worker); opus RTP from a UDP socket
// through an SRTP pipe between two routers and back out (protect + unprotect).
// DTLS is not covered here (needs a WebRTC client). Prints OK on success.
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

const workerBin =
	process.argv[2] ??
	process.env.MEDIASOUP_WORKER_BIN ??
	execFileSync(path.join(here, 'build.sh'), ['--print-path'], { encoding: 'utf8' }).trim();

// mediasoup reads MEDIASOUP_WORKER_BIN when its module loads: set it first.
process.env.MEDIASOUP_WORKER_BIN = path.resolve(workerBin);

const requireFromRepo = createRequire(path.join(repo, 'package.json'));
const mediasoup = await import(pathToFileURL(requireFromRepo.resolve('mediasoup')).href);

const log = (...args) => console.log('[smoke]', ...args);

function fail(message) {
	console.error(`[smoke] FAIL: ${message}`);
	process.exit(1);
}

// A port free for both UDP and TCP on 127.0.0.1 (WebRtcServer listens on both).
async function freePort() {
	for (let attempt = 0; attempt < 20; attempt++) {
		const port = await new Promise((resolve, reject) => {
			const server = net.createServer();
			server.once('error', reject);
			server.listen(0, '127.0.0.1', () => {
				const { port: p } = server.address();
				server.close(() => resolve(p));
			});
		});
		const udpFree = await new Promise((resolve) => {
			const socket = dgram.createSocket('udp4');
			socket.once('error', () => resolve(false));
			socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
		});
		if (udpFree) return port;
	}
	throw new Error('no free port found');
}

function bindUdp() {
	return new Promise((resolve, reject) => {
		const socket = dgram.createSocket('udp4');
		socket.once('error', reject);
		socket.bind(0, '127.0.0.1', () => resolve(socket));
	});
}

const mediaCodecs = [
	{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
	{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];
const listenInfo = { protocol: 'udp', ip: '127.0.0.1' };

const timeout = setTimeout(() => fail('timed out after 20 s'), 20_000);

log(`worker binary: ${process.env.MEDIASOUP_WORKER_BIN}`);
log(`mediasoup ${mediasoup.version}`);

const worker = await mediasoup.createWorker({ logLevel: 'warn' });
worker.on('died', (error) => fail(`worker died: ${error}`));
log(`worker pid ${worker.pid}`);

const router = await worker.createRouter({ mediaCodecs });
const codecs = router.rtpCapabilities.codecs.map((c) => c.mimeType);
if (!codecs.includes('audio/opus') || !codecs.includes('video/VP8')) {
	fail(`router codecs: ${codecs.join(', ')}`);
}
log(`router ${router.id} (${codecs.join(', ')})`);

// WebRtcServer + WebRtcTransport.
const port = await freePort();
const webRtcServer = await worker.createWebRtcServer({
	listenInfos: [
		{ protocol: 'udp', ip: '127.0.0.1', port },
		{ protocol: 'tcp', ip: '127.0.0.1', port },
	],
});
const webRtcTransport = await router.createWebRtcTransport({ webRtcServer, enableUdp: true, enableTcp: true });
const candidates = webRtcTransport.iceCandidates.map((c) => `${c.protocol}:${c.port}`);
if (!candidates.includes(`udp:${port}`)) fail(`ICE candidates ${candidates.join(' ')}`);
if (!webRtcTransport.dtlsParameters.fingerprints.some((f) => f.algorithm === 'sha-256')) {
	fail('no sha-256 DTLS fingerprint');
}
log(`WebRtcServer on ${port}, WebRtcTransport ${webRtcTransport.id} (${candidates.join(' ')})`);

// SRTP session creation for each crypto suite (policy create/add_key/...).
const keyLengths = {
	AEAD_AES_256_GCM: 44,
	AEAD_AES_128_GCM: 28,
	AES_CM_128_HMAC_SHA1_80: 30,
	AES_CM_128_HMAC_SHA1_32: 30,
};
for (const [cryptoSuite, keyLength] of Object.entries(keyLengths)) {
	const transport = await router.createPlainTransport({
		listenInfo,
		rtcpMux: true,
		comedia: false,
		enableSrtp: true,
		srtpCryptoSuite: cryptoSuite,
	});
	if (transport.srtpParameters?.cryptoSuite !== cryptoSuite) fail(`local SRTP suite for ${cryptoSuite}`);
	await transport.connect({
		ip: '127.0.0.1',
		port: 9,
		srtpParameters: { cryptoSuite, keyBase64: randomBytes(keyLength).toString('base64') },
	});
	transport.close();
}
log(`SRTP sessions: ${Object.keys(keyLengths).join(', ')}`);

// Media: UDP -> PlainTransport (router) -> SRTP pipe -> router2 -> PlainTransport -> UDP.
const router2 = await worker.createRouter({ mediaCodecs });
const inTransport = await router.createPlainTransport({ listenInfo, rtcpMux: true, comedia: true });
const producer = await inTransport.produce({
	kind: 'audio',
	rtpParameters: {
		codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
		encodings: [{ ssrc: 11111111 }],
	},
});
// keepId: false because both routers live in the same worker (ids must differ).
const { pipeProducer } = await router.pipeToRouter({
	producerId: producer.id,
	router: router2,
	enableSrtp: true,
	keepId: false,
});

const receiver = await bindUdp();
const outTransport = await router2.createPlainTransport({ listenInfo, rtcpMux: true, comedia: false });
await outTransport.connect({ ip: '127.0.0.1', port: receiver.address().port });
const consumer = await outTransport.consume({
	producerId: pipeProducer.id,
	rtpCapabilities: router2.rtpCapabilities,
});
const outPayloadType = consumer.rtpParameters.codecs[0].payloadType;

const sent = 50;
const received = new Set();
receiver.on('message', (msg) => {
	if (msg.length < 12 || msg[0] >> 6 !== 2 || (msg[1] & 0x7f) !== outPayloadType) return;
	// Skip CSRCs and the header extension the consumer may add.
	let offset = 12 + 4 * (msg[0] & 0x0f);
	if (msg[0] & 0x10) offset += 4 + 4 * msg.readUInt16BE(offset + 2);
	const payload = msg.subarray(offset);
	if (payload.length !== 40) return;
	const index = payload.readUInt32BE(0); // our payload starts with the packet index
	if (payload.subarray(4).every((b) => b === (index & 0xff))) received.add(index);
});

const sender = await bindUdp();
for (let i = 0; i < sent; i++) {
	const packet = Buffer.alloc(12 + 40, i & 0xff);
	packet[0] = 0x80;
	packet[1] = 100;
	packet.writeUInt16BE(1000 + i, 2);
	packet.writeUInt32BE(960 * i, 4);
	packet.writeUInt32BE(11111111, 8);
	packet.writeUInt32BE(i, 12);
	sender.send(packet, inTransport.tuple.localPort, '127.0.0.1');
	await new Promise((r) => setTimeout(r, 5));
}
// Poll rather than sleep: on a busy machine the last packets may take a while through both routers.
for (const until = Date.now() + 5000; received.size < sent && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
log(`RTP through SRTP pipe: ${received.size}/${sent} packets`);
if (received.size < sent * 0.9) fail('too many packets lost through the SRTP pipe');

sender.close();
receiver.close();
worker.close();
if (!worker.closed || !router.closed || !webRtcServer.closed || !webRtcTransport.closed) {
	fail('objects not closed');
}
clearTimeout(timeout);
console.log('OK');
