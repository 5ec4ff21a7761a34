import type { types } from 'mediasoup-client';

export interface SessionStats {
  consumers: { userId: string; kind: string; source: string; packetsReceived: number; framesDecoded: number; bytesReceived: number }[];
  producers: { source: string; paused: boolean; packetsSent: number }[];
}

/** Numbers for diagnostics and tests: what each consumer has received, what each producer sent. */
export async function collectStats(remotes: { userId: string; source: string; consumer: types.Consumer }[], producers: Map<string, types.Producer>): Promise<SessionStats> {
  const consumers = [];
  for (const remote of remotes) {
    const totals = { packetsReceived: 0, framesDecoded: 0, bytesReceived: 0 };
    (await remote.consumer.getStats()).forEach((report: { type: string } & Partial<typeof totals>) => {
      if (report.type !== 'inbound-rtp') return;
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += report[key] ?? 0;
    });
    consumers.push({ userId: remote.userId, kind: remote.consumer.kind, source: remote.source, ...totals });
  }
  const sent = [];
  for (const [source, producer] of producers) {
    let packetsSent = 0;
    (await producer.getStats()).forEach((report: { type: string; packetsSent?: number }) => {
      if (report.type === 'outbound-rtp') packetsSent += report.packetsSent ?? 0;
    });
    sent.push({ source, paused: producer.paused, packetsSent });
  }
  return { consumers, producers: sent };
}
