/**
 * A signed room token handed out in the link (/r/<id>?token=…). It is taken out of the address bar at
 * once, so it does not stay in the history or leak through a shared screen, and kept for this tab only
 * (a reload still works). The server makes the token's subject (`sub`) the seat's user id: one token,
 * one seat.
 */
const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function takeRoomToken(roomId: string): string | undefined {
  const key = `parley.token.${roomId}`;
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl !== null) {
    params.delete('token');
    const query = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
    try {
      sessionStorage.setItem(key, fromUrl);
    } catch {
      // Private mode: the token lives as long as the page.
    }
    return fromUrl || undefined;
  }
  try {
    return sessionStorage.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The token's `sub` claim, read without verifying (the server verifies); undefined when absent or unusable. */
export function tokenSubject(token: string | undefined): string | undefined {
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown };
    return typeof json.sub === 'string' && USER_ID.test(json.sub) ? json.sub : undefined;
  } catch {
    return undefined;
  }
}
