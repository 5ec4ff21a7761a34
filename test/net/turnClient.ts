/**
 * A small TURN client (RFC 8656) for the lab: over TCP or TLS, it allocates a UDP relay with
 * long-term credentials, asks for a permission to one peer, sends a few Send indications and counts
 * the Data indications that come back (the peer is an echo server). Run inside a namespace:
 *
 *   ip netns exec NS node test/net/turnClient.ts '{"host":"10.77.0.1","port":443,"tls":true,...}'
 *
 * Prints one JSON line: {allocated, relayed?, permission: "ok" | <error code>, echoed, error?}.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

interface Options {
  host: string;
  port: number;
  tls: boolean;
  /** SNI for TLS. */
  servername?: string;
  username: string;
  credential: string;
  peer: string;
  peerPort: number;
  messages: number;
}

const MAGIC = 0x2112a442;
const ATTR = { USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, ERROR_CODE: 0x0009, XOR_PEER_ADDRESS: 0x0012, DATA: 0x0013, REALM: 0x0014, NONCE: 0x0015, XOR_RELAYED_ADDRESS: 0x0016, REQUESTED_TRANSPORT: 0x0019 };
const TYPE = { ALLOCATE: 0x0003, CREATE_PERMISSION: 0x0008, SEND_INDICATION: 0x0016, DATA_INDICATION: 0x0017 };

interface Message {
  type: number;
  id: Buffer;
  attrs: Map<number, Buffer>;
}

function xorAddress(address: string, port: number): Buffer {
  const value = Buffer.alloc(8);
  value.writeUInt8(0x01, 1); // IPv4
  value.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  value.writeUInt32BE((address.split('.').reduce((n, octet) => (n << 8) | Number(octet), 0) ^ MAGIC) >>> 0, 4);
  return value;
}

function readXorAddress(value: Buffer): string {
  const port = value.readUInt16BE(2) ^ (MAGIC >>> 16);
  const raw = (value.readUInt32BE(4) ^ MAGIC) >>> 0;
  return `${raw >>> 24}.${(raw >>> 16) & 255}.${(raw >>> 8) & 255}.${raw & 255}:${port}`;
}

function attribute(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(value.length, 2);
  return Buffer.concat([header, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

/** A STUN message; with `key`, MESSAGE-INTEGRITY (HMAC-SHA1 over the message up to it) last. */
function encode(type: number, attrs: Buffer[], key?: Buffer): { id: Buffer; bytes: Buffer } {
  const id = crypto.randomBytes(12);
  const body = Buffer.concat(attrs);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(MAGIC, 4);
  id.copy(header, 8);
  if (!key) {
    header.writeUInt16BE(body.length, 2);
    return { id, bytes: Buffer.concat([header, body]) };
  }
  header.writeUInt16BE(body.length + 24, 2);
  const mac = crypto.createHmac('sha1', key).update(Buffer.concat([header, body])).digest();
  return { id, bytes: Buffer.concat([header, body, attribute(ATTR.MESSAGE_INTEGRITY, mac)]) };
}

function decode(bytes: Buffer): Message {
  const attrs = new Map<number, Buffer>();
  const length = bytes.readUInt16BE(2);
  for (let offset = 20; offset + 4 <= 20 + length; ) {
    const type = bytes.readUInt16BE(offset);
    const size = bytes.readUInt16BE(offset + 2);
    attrs.set(type, bytes.subarray(offset + 4, offset + 4 + size));
    offset += 4 + size + ((4 - (size % 4)) % 4);
  }
  return { type: bytes.readUInt16BE(0), id: bytes.subarray(8, 20), attrs };
}

const errorCode = (message: Message) => {
  const value = message.attrs.get(ATTR.ERROR_CODE);
  return value ? value.readUInt8(2) * 100 + value.readUInt8(3) : undefined;
};

async function main(options: Options): Promise<Record<string, unknown>> {
  const socket: net.Socket = options.tls
    ? tls.connect({ host: options.host, port: options.port, servername: options.servername, rejectUnauthorized: false })
    : net.connect({ host: options.host, port: options.port });
  await new Promise<void>((resolve, reject) => {
    socket.once(options.tls ? 'secureConnect' : 'connect', () => resolve());
    socket.once('error', reject);
  });
  const pending = new Map<string, (message: Message) => void>();
  let echoed = 0;
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 20 && buffer.length >= 20 + buffer.readUInt16BE(2)) {
      const size = 20 + buffer.readUInt16BE(2);
      const message = decode(buffer.subarray(0, size));
      buffer = buffer.subarray(size);
      if (message.type === TYPE.DATA_INDICATION) echoed++;
      pending.get(message.id.toString('hex'))?.(message);
    }
  });
  const transact = (type: number, attrs: Buffer[], key?: Buffer) =>
    new Promise<Message>((resolve, reject) => {
      const { id, bytes } = encode(type, attrs, key);
      const timer = setTimeout(() => reject(new Error(`no answer to request 0x${type.toString(16)}`)), 5000);
      pending.set(id.toString('hex'), (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      socket.write(bytes);
    });

  const transport = attribute(ATTR.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));
  const challenge = await transact(TYPE.ALLOCATE, [transport]);
  const realm = challenge.attrs.get(ATTR.REALM);
  const nonce = challenge.attrs.get(ATTR.NONCE);
  if (errorCode(challenge) !== 401 || !realm || !nonce) return { allocated: false, error: `expected a 401 challenge, got ${errorCode(challenge)}` };
  const key = crypto.createHash('md5').update(`${options.username}:${realm.toString()}:${options.credential}`).digest();
  const auth = [attribute(ATTR.USERNAME, Buffer.from(options.username)), attribute(ATTR.REALM, realm), attribute(ATTR.NONCE, nonce)];
  const allocation = await transact(TYPE.ALLOCATE, [transport, ...auth], key);
  if (allocation.type !== 0x0103) return { allocated: false, error: `allocate refused: ${errorCode(allocation)}` };
  const relayed = readXorAddress(allocation.attrs.get(ATTR.XOR_RELAYED_ADDRESS)!);

  const peer = attribute(ATTR.XOR_PEER_ADDRESS, xorAddress(options.peer, options.peerPort));
  const permission = await transact(TYPE.CREATE_PERMISSION, [peer, ...auth], key);
  if (permission.type !== 0x0108) return { allocated: true, relayed, permission: errorCode(permission), echoed: 0 };
  for (let i = 0; i < options.messages; i++) socket.write(encode(TYPE.SEND_INDICATION, [peer, attribute(ATTR.DATA, Buffer.from(`parley lab ${i}`))]).bytes);
  const deadline = Date.now() + 5000;
  while (echoed < options.messages && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  socket.destroy();
  return { allocated: true, relayed, permission: 'ok', echoed };
}

main(JSON.parse(process.argv[2]!) as Options).then(
  (result) => {
    console.log(JSON.stringify(result));
    process.exit(0);
  },
  (error: Error) => {
    console.log(JSON.stringify({ allocated: false, error: error.message }));
    process.exit(0);
  },
);
