/**
 * The server API as OpenAPI 3.1, served at /api/openapi.json. test/server/api.test.ts checks every
 * real reply of the API against the response schemas here, so the document cannot drift from the code.
 */

const error = {
  type: 'object',
  required: ['error', 'code'],
  additionalProperties: false,
  properties: {
    error: { type: 'string', description: 'An English sentence for people and logs.' },
    code: { type: 'string', enum: ['unauthorized', 'not_found', 'method_not_allowed', 'invalid_body', 'body_too_large', 'unsupported_media_type', 'unavailable'], description: 'What a program acts on.' },
  },
} as const;

const roomId = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } as const;

export const schemas = {
  Error: error,
  CreateRoomRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      password: { type: 'string', minLength: 1, maxLength: 128, description: 'Everyone joining must give it.' },
      maxParticipants: { type: 'integer', minimum: 1, maximum: 10000, description: 'Most people in the call at once (the server-wide MAX_PARTICIPANTS still applies).' },
    },
  },
  CreatedRoom: {
    type: 'object',
    required: ['roomId', 'url', 'hostUrl'],
    additionalProperties: false,
    properties: {
      roomId,
      url: { type: 'string', format: 'uri', description: 'The invite link.' },
      hostUrl: { type: 'string', format: 'uri', description: 'The link for the host: with AUTH_SECRET set it carries a signed host token (?token=), otherwise it is the invite link.' },
    },
  },
  RoomList: {
    type: 'object',
    required: ['rooms'],
    additionalProperties: false,
    properties: {
      rooms: {
        type: 'array',
        description: 'Live calls on this server.',
        items: { type: 'object', required: ['roomId', 'participants'], additionalProperties: false, properties: { roomId, participants: { type: 'integer', minimum: 0 } } },
      },
    },
  },
  Room: {
    type: 'object',
    required: ['roomId', 'live', 'participants'],
    additionalProperties: false,
    properties: {
      roomId,
      live: { type: 'boolean', description: 'A call is going on now.' },
      participants: {
        type: 'array',
        items: {
          type: 'object',
          required: ['userId', 'userName', 'role'],
          additionalProperties: false,
          properties: { userId: { type: 'string' }, userName: { type: 'string' }, role: { type: 'string', enum: ['host', 'guest'] } },
        },
      },
    },
  },
} as const;

const ref = (name: keyof typeof schemas) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: keyof typeof schemas, description: string) => ({ description, content: { 'application/json': { schema: ref(name) } } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      json('Error', { 400: 'The body is not valid', 401: 'No or wrong API key', 404: 'No such room', 413: 'Body too large', 415: 'Body is not JSON', 503: 'The room store is not answering' }[status] ?? 'Error'),
    ]),
  );
const roomIdParameter = { name: 'roomId', in: 'path', required: true, schema: roomId };

export function openApiDocument(origin: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Parley server API',
      version: '1',
      description: 'Create and end calls and see who is in them. Off unless the server has API_KEY; send it as `Authorization: Bearer <API_KEY>`. Errors are `{error, code}`.',
    },
    servers: [{ url: origin }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The API_KEY' } },
      schemas,
    },
    paths: {
      '/api/rooms': {
        post: {
          operationId: 'createRoom',
          summary: 'Create a room',
          requestBody: { required: false, content: { 'application/json': { schema: ref('CreateRoomRequest') } } },
          responses: { '201': json('CreatedRoom', 'The room, its invite link and the host link'), ...errors(400, 401, 413, 415, 503) },
        },
        get: {
          operationId: 'listRooms',
          summary: 'Live calls with their participant counts',
          responses: { '200': json('RoomList', 'Live calls'), ...errors(401) },
        },
      },
      '/api/rooms/{roomId}': {
        parameters: [roomIdParameter],
        get: {
          operationId: 'getRoom',
          summary: 'A room and who is in it now',
          responses: { '200': json('Room', 'The room'), ...errors(401, 404, 503) },
        },
        delete: {
          operationId: 'endCall',
          summary: 'End the call for everyone',
          description: 'Everyone in it is told (`removedFromRoom {reason}`) and disconnected; for a few minutes nobody can rejoin it.',
          parameters: [{ name: 'reason', in: 'query', required: false, schema: { type: 'string', maxLength: 200 }, description: 'Shown to the participants.' }],
          responses: { '204': { description: 'Ended' }, ...errors(401, 404) },
        },
      },
      '/api/openapi.json': {
        get: { operationId: 'openApi', summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } } },
      },
    },
  };
}
