import { z } from 'zod';
import { roomIdSchema } from '../rooms/roomIds.ts';
import { checkName } from '../shared/names.ts';
import { REACTIONS, type RequestName } from './protocol.ts';

/** Longest chat message, in characters. */
export const MAX_CHAT_LENGTH = 1000;

/** Chat text: trimmed, 1–1000 characters, no control characters but line breaks and tabs. */
export const chatTextSchema = z
  .string()
  .max(MAX_CHAT_LENGTH * 4, `text must be at most ${MAX_CHAT_LENGTH} characters`)
  .transform((raw, ctx) => {
    const text = raw.replace(/\r\n?/g, '\n').trim();
    if (text.length === 0) ctx.addIssue({ code: 'custom', message: 'text is empty' });
    else if ([...text].length > MAX_CHAT_LENGTH) ctx.addIssue({ code: 'custom', message: `text must be at most ${MAX_CHAT_LENGTH} characters` });
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/.test(text)) ctx.addIssue({ code: 'custom', message: 'text has control characters' });
    else return text;
    return z.NEVER;
  });

// Defined beside the room id rules; re-exported here for the pages that import it from this module.
export { roomIdSchema };
export const userIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'userId must be 1-64 characters of A-Z a-z 0-9 _ -');

/** Display names: trimmed, 1-40 characters, no control characters (same rule as the browser form). */
export const userNameSchema = z
  .string()
  .max(200, 'userName must be 1-40 characters')
  .transform((raw, ctx) => {
    const check = checkName(raw);
    if (check.ok) return check.name;
    ctx.addIssue({ code: 'custom', message: `userName must be 1-40 characters without control characters (${check.error})` });
    return z.NEVER;
  });

/** RTP numbers, bounded as the wire format bounds them (the worker would silently truncate). */
const payloadType = z.number().int().min(0).max(127);
const ssrc = z.number().int().min(0).max(0xffffffff);
const clockRate = z.number().int().min(1).max(10_000_000);
const channels = z.number().int().min(1).max(8);
const extensionId = z.number().int().min(1).max(255);

/** mediasoup object ids (UUIDs). */
const objectId = (name: string) => z.string().min(1).max(64, `${name} is too long`);

const scalar = z.union([z.string().max(256), z.number(), z.boolean(), z.null()]);
const codecParameters = z.record(z.string().max(64), scalar).refine((r) => Object.keys(r).length <= 32, 'too many codec parameters');
const rtcpFeedback = z.looseObject({ type: z.string().max(32), parameter: z.string().max(32).optional() });

const rtpCodecParameters = z.looseObject({
  mimeType: z.string().max(64),
  payloadType,
  clockRate,
  channels: channels.optional(),
  parameters: codecParameters.optional(),
  rtcpFeedback: z.array(rtcpFeedback).max(32).optional(),
});
const rtpEncoding = z.looseObject({
  ssrc: ssrc.optional(),
  rid: z.string().max(32).optional(),
  rtx: z.looseObject({ ssrc }).optional(),
  scalabilityMode: z.string().max(16).optional(),
  maxBitrate: z.number().min(0).max(1e10).optional(),
  dtx: z.boolean().optional(),
});
const headerExtension = z.looseObject({
  uri: z.string().max(256),
  id: extensionId,
  encrypt: z.boolean().optional(),
  parameters: codecParameters.optional(),
});

export const rtpParametersSchema = z.looseObject({
  mid: z.string().max(32).optional(),
  codecs: z.array(rtpCodecParameters).min(1).max(32),
  headerExtensions: z.array(headerExtension).max(32).optional(),
  encodings: z.array(rtpEncoding).max(8).optional(),
  rtcp: z.looseObject({ cname: z.string().max(256).optional(), reducedSize: z.boolean().optional(), mux: z.boolean().optional() }).optional(),
  msid: z.string().max(256).optional(),
});

export const rtpCapabilitiesSchema = z.looseObject({
  codecs: z
    .array(
      z.looseObject({
        kind: z.enum(['audio', 'video']),
        mimeType: z.string().max(64),
        preferredPayloadType: payloadType.optional(),
        clockRate,
        channels: channels.optional(),
        parameters: codecParameters.optional(),
        rtcpFeedback: z.array(rtcpFeedback).max(32).optional(),
      }),
    )
    .max(128)
    .optional(),
  headerExtensions: z
    .array(
      z.looseObject({
        kind: z.enum(['audio', 'video']),
        uri: z.string().max(256),
        preferredId: extensionId,
        preferredEncrypt: z.boolean().optional(),
        direction: z.string().max(16).optional(),
      }),
    )
    .max(64)
    .optional(),
});

export const dtlsParametersSchema = z.looseObject({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(z.looseObject({ algorithm: z.string().max(16), value: z.string().max(256) }))
    .min(1)
    .max(8),
});

/** Producer appData: a small flat object of scalars, forwarded to the other participants. */
export const appDataSchema = z
  .record(z.string().max(32), scalar)
  .refine((r) => Object.keys(r).length <= 16, 'appData has too many keys')
  .refine((r) => r.type === undefined || typeof r.type === 'string', 'appData.type must be a string');

export const requestSchemas = {
  joinRoom: z.strictObject({
    roomId: roomIdSchema,
    userId: userIdSchema,
    userName: userNameSchema,
    reclaimSecret: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'reclaimSecret is malformed').optional(),
    password: z.string().min(1).max(128, 'password is too long').optional(),
    token: z.string().min(1).max(4096, 'token is too long').optional(),
    hostKey: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'hostKey is malformed').optional(),
    videoCodecs: z.array(z.string().regex(/^video\/[A-Za-z0-9._-]{1,24}$/, 'videoCodecs must be video mime types')).max(16).optional(),
  }),
  joinProbe: z.strictObject({}),
  leaveRoom: z.strictObject({ roomId: roomIdSchema, userId: userIdSchema }),
  getRouterRtpCapabilities: z.strictObject({ roomId: roomIdSchema }),
  createWebRtcTransport: z.strictObject({
    roomId: roomIdSchema,
    producing: z.boolean().optional(),
    consuming: z.boolean().optional(),
  }),
  connectWebRtcTransport: z.strictObject({ transportId: objectId('transportId'), dtlsParameters: dtlsParametersSchema }),
  produce: z.strictObject({
    transportId: objectId('transportId'),
    kind: z.enum(['audio', 'video']),
    rtpParameters: rtpParametersSchema,
    appData: appDataSchema.optional(),
  }),
  consume: z.strictObject({
    producerId: objectId('producerId'),
    rtpCapabilities: rtpCapabilitiesSchema,
    transportId: objectId('transportId').optional(),
  }),
  resumeConsumer: z.strictObject({ consumerId: objectId('consumerId') }),
  restartIce: z.strictObject({ transportId: objectId('transportId') }),
  producerClosed: z.strictObject({ producerId: objectId('producerId') }),
  pauseProducer: z.strictObject({ producerId: objectId('producerId') }),
  resumeProducer: z.strictObject({ producerId: objectId('producerId') }),
  getProducers: z.strictObject({ roomId: roomIdSchema }),
  pauseConsumer: z.strictObject({ consumerId: objectId('consumerId') }),
  setConsumerPreferredLayers: z.strictObject({
    consumerId: objectId('consumerId'),
    spatialLayer: z.number().int().min(0).max(15),
    temporalLayer: z.number().int().min(0).max(15).optional(),
  }),
  setConsumerPriority: z.strictObject({ consumerId: objectId('consumerId'), priority: z.number().int().min(1).max(255) }),
  requestConsumerKeyFrame: z.strictObject({ consumerId: objectId('consumerId') }),
  sendChatMessage: z.strictObject({ text: chatTextSchema }),
  getChatHistory: z.strictObject({}),
  setHandRaised: z.strictObject({ raised: z.boolean() }),
  sendReaction: z.strictObject({ emoji: z.enum(REACTIONS, { message: `emoji must be one of ${REACTIONS.join(' ')}` }) }),
  hostMuteParticipant: z.strictObject({ userId: userIdSchema }),
  hostAskToUnmute: z.strictObject({ userId: userIdSchema }),
  hostStopScreenShare: z.strictObject({ userId: userIdSchema }),
  hostRemoveParticipant: z.strictObject({ userId: userIdSchema, reason: z.string().trim().max(200, 'reason must be at most 200 characters').optional() }),
  hostLowerHand: z.strictObject({ userId: userIdSchema }),
  setRoomLocked: z.strictObject({ locked: z.boolean() }),
  admitParticipant: z.strictObject({ userId: userIdSchema }),
  denyParticipant: z.strictObject({ userId: userIdSchema }),
  setParticipantRole: z.strictObject({ userId: userIdSchema, role: z.enum(['host', 'guest']) }),
} satisfies Record<RequestName, z.ZodType>;

export type ValidRequest<E extends RequestName> = z.output<(typeof requestSchemas)[E]>;

/** Turns a zod failure into one short sentence for the error ack. */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid payload';
  const where = issue.path.length > 0 ? issue.path.join('.') : 'payload';
  if (issue.code === 'unrecognized_keys') return `unexpected field(s) in ${where}: ${issue.keys.slice(0, 3).join(', ')}`;
  return `invalid ${where}: ${issue.message}`;
}
