/**
 * The join benchmark's baseline: the smallest mediasoup-client page that joins a Parley room with
 * the same signaling protocol, doing every step in series after the click (no framework, no UI
 * state). `?room=<id>` picks the room; `&role=publisher` produces camera and microphone and
 * consumes nothing (the bench keeps one such page in the room as the remote party).
 */
import { Device, type types } from 'mediasoup-client';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ReplyOf, RequestName, RequestOf, ServerToClientEvents } from '../../src/signaling/protocol.ts';

const params = new URLSearchParams(location.search);
const roomId = params.get('room') ?? '';
const publisher = params.get('role') === 'publisher';
const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({ transports: ['websocket'] });
const form = document.querySelector<HTMLFormElement>('#join')!;
const nameInput = document.querySelector<HTMLInputElement>('#name')!;
const video = document.querySelector<HTMLVideoElement>('#remote')!;

type Emit = (event: string, payload: unknown) => Promise<unknown>;
/** Timeline marks, like the room page's `parley:*` ones: the bench prints both side by side. */
const mark = (name: string) => performance.mark(`minimal:${name}`);

async function request<E extends RequestName>(event: E, payload: RequestOf<E>): Promise<ReplyOf<E>> {
  const emit = socket.timeout(10_000).emitWithAck as unknown as Emit;
  const reply = await emit.call(socket.timeout(10_000), event, payload);
  if (reply && typeof reply === 'object' && 'error' in reply) throw new Error(`${event}: ${String(reply.error)}`);
  return reply as ReplyOf<E>;
}

async function createTransport(device: Device, direction: 'send' | 'recv'): Promise<types.Transport> {
  const params = await request('createWebRtcTransport', { roomId, producing: direction === 'send', consuming: direction === 'recv' });
  const transport = direction === 'send' ? device.createSendTransport(params) : device.createRecvTransport(params);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    request('connectWebRtcTransport', { transportId: transport.id, dtlsParameters }).then(() => callback(), errback);
  });
  transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
    request('produce', { transportId: transport.id, kind, rtpParameters, appData }).then(({ producerId }) => callback({ id: producerId }), errback);
  });
  return transport;
}

async function join(userName: string): Promise<void> {
  const userId = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  await request('joinRoom', { roomId, userId, userName });
  mark('joined');
  const { rtpCapabilities } = await request('getRouterRtpCapabilities', { roomId });
  const device = new Device();
  await device.load({ routerRtpCapabilities: rtpCapabilities as types.RtpCapabilities });
  mark('device-loaded');
  const sendTransport = await createTransport(device, 'send');
  mark('send-transport');
  const recvTransport = await createTransport(device, 'recv');
  mark('recv-transport');
  recvTransport.on('connectionstatechange', (state) => state === 'connected' && mark('dtls-connected'));

  const stream = await navigator.mediaDevices.getUserMedia({
    audio: publisher,
    video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
  });
  mark('camera');
  for (const track of stream.getTracks()) {
    await sendTransport.produce({ track, appData: { type: track.kind === 'audio' ? 'mic' : 'camera' } });
  }
  mark('produced');
  if (publisher) {
    if (sendTransport.connectionState !== 'connected') {
      await new Promise<void>((resolve) => sendTransport.on('connectionstatechange', (state) => state === 'connected' && resolve()));
    }
    document.body.dataset.state = 'publishing';
    return;
  }

  const { producers } = await request('getProducers', { roomId });
  for (const { producerId } of producers) {
    const reply = await request('consume', { producerId, rtpCapabilities: device.recvRtpCapabilities, transportId: recvTransport.id });
    mark('first-consume');
    const consumer = await recvTransport.consume({
      id: reply.id,
      producerId: reply.producerId,
      kind: reply.kind,
      rtpParameters: reply.rtpParameters as types.RtpParameters,
    });
    if (consumer.kind === 'video') video.srcObject = new MediaStream([consumer.track]);
    await request('resumeConsumer', { consumerId: consumer.id });
    mark('consumer-resumed');
  }
  document.body.dataset.state = 'joined';
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  form.querySelector('button')!.disabled = true;
  join(nameInput.value.trim() || 'Guest').catch((error: unknown) => {
    document.body.dataset.state = 'failed';
    document.querySelector('#status')!.textContent = String(error);
    console.error(error);
  });
});
