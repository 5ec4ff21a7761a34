import type { Handlers } from './context.ts';
import { callHandlers } from './callHandlers.ts';
import { hostHandlers } from './hostHandlers.ts';
import { joinHandlers } from './joinHandlers.ts';
import { mediaHandlers } from './mediaHandlers.ts';

export { leave } from './joinHandlers.ts';

/**
 * One handler per request (protocol.ts). Handlers answer the caller only: what other participants
 * hear comes from the rooms' own events, through RoomBroadcaster.
 */
export const handlers: Handlers = { ...joinHandlers, ...mediaHandlers, ...callHandlers, ...hostHandlers };
