/**
 * Timeline marks for the join benchmark (bench/join): `performance.mark('parley:<name>')`, each name
 * once per page, so "click → joined → transports → DTLS → first consumer → resumed" can be read back
 * with performance.getEntriesByType('mark'). Costs nothing noticeable.
 */
const seen = new Set<string>();

export function mark(name: string): void {
  if (seen.has(name) || typeof performance === 'undefined' || typeof performance.mark !== 'function') return;
  seen.add(name);
  performance.mark(`parley:${name}`);
}
