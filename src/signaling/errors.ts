import { StoreUnavailableError } from '../store/RoomStateStore.ts';
import type { ErrorCode } from './protocol.ts';

/**
 * The client asked for something it may not or cannot have: an error ack `{error, code}`, and the
 * connection stays. The one way any part of the server refuses a request.
 */
export class UserError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'UserError';
    this.code = code;
  }
}

/** The client broke the protocol (no ack callback, garbage frames): the connection is dropped. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** A store call on behalf of a request: an outage is the client's `unavailable`, not a crash. */
export async function stored<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw new UserError('unavailable', 'room service temporarily unavailable, try again');
    throw error;
  }
}
