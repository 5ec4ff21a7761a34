import type { types } from 'mediasoup';

/**
 * What each video a receiver is shown gets at least of its downlink: about the lowest layer at its
 * base frame rate (a 180p layer of ≤ 150 kbps sends ~60 kbps in temporal layer 0, 7.5 fps).
 */
export const FLOOR_PER_VIDEO_BPS = 70_000;
/** The floor stops here (about 17 videos): past it, the bandwidth estimate alone decides. */
export const MAX_FLOOR_BPS = 1_200_000;

/**
 * Keeps a floor under what mediasoup shares out on one receiving transport, sized by the videos it
 * sends now (not paused by the viewer or their sender). mediasoup hands each consumer a layer at a
 * time from its bandwidth estimate, by priority; when the estimate dips below what the shown videos
 * need at their lowest layer, the last ones get nothing and freeze, and each one's restart costs a
 * key frame burst that makes the estimate dip again. With the floor every shown tile keeps its base
 * layer (measured behind a 1.5 Mbit/s link: bench:call with BENCH_CALL_DOWNLINK_KBIT); what the
 * estimate adds above it still goes by priority (spotlight and screen share first).
 */
export function keepDownlinkFloor(transport: types.WebRtcTransport): void {
  const videos = new Set<types.Consumer>();
  let applied = 0;
  let scheduled = false;
  const update = () => {
    if (scheduled) return;
    scheduled = true;
    // One request for a burst of changes (a join consumes many at once; a grid page turn pauses many).
    queueMicrotask(() => {
      scheduled = false;
      if (transport.closed) return;
      let flowing = 0;
      for (const consumer of videos) if (!consumer.paused && !consumer.producerPaused) flowing++;
      const floor = Math.min(flowing * FLOOR_PER_VIDEO_BPS, MAX_FLOOR_BPS);
      if (floor === applied) return;
      applied = floor;
      transport.setMinOutgoingBitrate(floor).catch(() => {}); // closed meanwhile: nothing to keep
    });
  };
  transport.observer.on('newconsumer', (consumer) => {
    if (consumer.kind !== 'video') return;
    videos.add(consumer);
    consumer.observer.on('pause', update);
    consumer.observer.on('resume', update);
    consumer.observer.once('close', () => {
      videos.delete(consumer);
      update();
    });
    update();
  });
}
