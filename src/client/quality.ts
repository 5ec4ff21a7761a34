/** Connection quality as a tile shows it. */
export type Quality = 'good' | 'fair' | 'poor';

export const QUALITY_LABELS: Record<Quality, string> = { good: 'Connection good', fair: 'Connection fair', poor: 'Connection poor' };

/**
 * From mediasoup's scores (0–10): how well the server sends this consumer to us, and how well its
 * producer reaches the server. The weaker of the two is what we see.
 */
export function qualityOfScores(score: number, producerScore: number): Quality {
  const worst = Math.min(score, producerScore);
  return worst >= 7 ? 'good' : worst >= 4 ? 'fair' : 'poor';
}

/** Our own uplink, from the browser's stats of what we send: losses the server reports back, and why the encoder holds back. */
export function qualityOfUplink(fractionLost: number, limitedBy: string | undefined, roundTripTime: number | undefined): Quality {
  if (fractionLost > 0.1 || (roundTripTime ?? 0) > 0.5) return 'poor';
  if (fractionLost > 0.03 || limitedBy === 'bandwidth' || (roundTripTime ?? 0) > 0.25) return 'fair';
  return 'good';
}
