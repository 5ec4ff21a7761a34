import type { types } from 'mediasoup-client';

export interface SessionStats {
  consumers: {
    userId: string;
    kind: string;
    source: string;
    consumerId: string;
    packetsReceived: number;
    framesDecoded: number;
    bytesReceived: number;
    frameHeight: number;
    /** Video: whether we asked the server to pause it (tile not shown), and the layer it reports sending. */
    paused: boolean;
    spatialLayer: number | null;
  }[];
  producers: { source: string; paused: boolean; packetsSent: number }[];
}

/** Numbers for diagnostics and tests: what each consumer has received, what each producer sent. */
interface Remote {
  userId: string;
  source: string;
  consumer: types.Consumer;
  applied: { paused: boolean };
  currentLayer: number | null;
}

export async function collectStats(remotes: Remote[], producers: Map<string, types.Producer>): Promise<SessionStats> {
  const consumers = [];
  for (const remote of remotes) {
    const totals = { packetsReceived: 0, framesDecoded: 0, bytesReceived: 0, frameHeight: 0 };
    (await remote.consumer.getStats()).forEach((report: { type: string } & Partial<typeof totals>) => {
      if (report.type !== 'inbound-rtp') return;
      totals.packetsReceived += report.packetsReceived ?? 0;
      totals.framesDecoded += report.framesDecoded ?? 0;
      totals.bytesReceived += report.bytesReceived ?? 0;
      totals.frameHeight = Math.max(totals.frameHeight, report.frameHeight ?? 0);
    });
    const { userId, source, consumer } = remote;
    consumers.push({ userId, kind: consumer.kind, source, consumerId: consumer.id, ...totals, paused: remote.applied.paused, spatialLayer: remote.currentLayer });
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
