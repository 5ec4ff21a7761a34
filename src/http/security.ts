import type { ServerResponse } from 'node:http';

/**
 * Strict CSP: scripts and styles only from our own origin, no inline code, no eval. Media elements
 * play MediaStreams (no URL needed); the socket connects back to the same origin. Pages add a
 * per-response nonce to script-src: htmx's hx-csp extension reads it and only honours htmx
 * attributes on elements the server stamped with it (hx-nonce), so injected markup stays inert.
 */
export function contentSecurityPolicy(nonce?: string): string {
  return CSP_DIRECTIVES.map((d) => (nonce && d === "script-src 'self'" ? `${d} 'nonce-${nonce}'` : d)).join('; ');
}

const CSP_DIRECTIVES = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
];

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

export function setSecurityHeaders(res: ServerResponse, https = false): void {
  if (https) res.setHeader('strict-transport-security', 'max-age=31536000');
  res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('permissions-policy', 'camera=(self), microphone=(self), display-capture=(self), geolocation=()');
}
