// Prints a signed room token and the link that uses it, for trying tokens out or for scripts:
//
//   AUTH_SECRET=… npm run token -- --room ID --name NAME [--role host] [--ttl 2h] [--sub ID] [--url https://call.example.com]
//
// HS256 with AUTH_SECRET (the same claims the server checks: room, name, role, sub, exp; aud/iss from
// AUTH_AUDIENCE/AUTH_ISSUER when set). The link is PUBLIC_URL (or --url, or http://localhost:PORT)
// followed by /r/ID?token=….
import { parseArgs } from 'node:util';
import { parseTtl, randomSubject, signRoomToken, SUBJECT } from '../src/api/roomTokens.ts';
import { roomIdSchema } from '../src/signaling/schemas.ts';

function fail(message: string): never {
  console.error(`token: ${message}`);
  console.error('usage: npm run token -- --room ID --name NAME [--role host|guest] [--ttl 2h] [--sub ID] [--url BASE]');
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      room: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string', default: 'guest' },
      ttl: { type: 'string', default: '2h' },
      sub: { type: 'string' },
      url: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (error) {
  fail((error as Error).message);
}
const secret = process.env.AUTH_SECRET?.trim();
if (!secret || secret.length < 32) fail('set AUTH_SECRET (the server\'s, at least 32 characters) in the environment');
if (!values.room || !roomIdSchema.safeParse(values.room).success) fail('--room must be 1-64 characters of A-Z a-z 0-9 _ -');
if (!values.name?.trim()) fail('--name is required');
if (values.role !== 'host' && values.role !== 'guest') fail('--role must be host or guest');
const ttl = parseTtl(values.ttl);
if (ttl === undefined) fail('--ttl must look like 90s, 45m, 2h or 1d');
const sub = values.sub ?? randomSubject(values.role === 'host' ? 'host' : 'u');
if (!SUBJECT.test(sub)) fail('--sub must be 1-64 characters of A-Z a-z 0-9 _ -');

const token = await signRoomToken(secret, { room: values.room, name: values.name.trim(), role: values.role, sub }, ttl, {
  audience: process.env.AUTH_AUDIENCE?.trim() || undefined,
  issuer: process.env.AUTH_ISSUER?.trim() || undefined,
});
const base = (values.url ?? process.env.PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`).replace(/\/+$/, '');
const link = `${base}/r/${encodeURIComponent(values.room)}?token=${encodeURIComponent(token)}`;
if (values.json) console.log(JSON.stringify({ token, link, sub, expiresAt: new Date(Date.now() + ttl * 1000).toISOString() }));
else console.log(`${token}\n\n${link}`);
