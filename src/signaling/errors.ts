/** The client asked for something it may not or cannot have: error ack, connection stays. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** The client broke the protocol (no ack callback, garbage frames): the connection is dropped. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}
