import { skipReason, sweepStale } from './netlab.ts';

/** Before and after the net suite: remove namespaces (and their processes) left by killed runs. */
export default function sweep(): void {
  if (skipReason()) return;
  const swept = sweepStale();
  if (swept.length > 0) console.log(`net: removed leftover namespaces ${swept.join(', ')}`);
}
