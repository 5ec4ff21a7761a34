import type { TurnSettings } from '../auth/turnCredentials.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { Coturn } from './Coturn.ts';
import { chooseRelayIp, defaultTurnUrls, mediaAddresses } from './coturnConfig.ts';

export interface RunningTurn {
  /** What credentials are minted with (createWebRtcTransport and restartIce replies). */
  settings: TurnSettings;
  /** coturn, when Parley runs it (TURN_SERVER=coturn). */
  coturn: Coturn | undefined;
  close(): Promise<void>;
}

/**
 * TURN at start: the URLs browsers get (TURN_URLS, else the announced address on TURN_PORT), and
 * coturn started next to Parley unless TURN_SERVER=external. Undefined while TURN_SECRET is unset.
 */
export async function startTurn(config: Config, announcedAddress: string | undefined, log: Logger): Promise<RunningTurn | undefined> {
  const turn = config.turn;
  if (!turn) return undefined;
  const mediaAddress = announcedAddress ?? (config.rtcListenIp !== '0.0.0.0' && config.rtcListenIp !== '::' ? config.rtcListenIp : undefined);
  if (!turn.urls && !mediaAddress) throw new Error('TURN_URLS is not set and there is no announced address to make them from: set TURN_URLS (or ANNOUNCED_IP)');
  const urls = turn.urls ?? defaultTurnUrls(mediaAddress!, turn.port);
  const settings: TurnSettings = { secret: turn.secret, urls, ttlSeconds: turn.ttlSeconds };
  let coturn: Coturn | undefined;
  if (turn.server === 'coturn') {
    coturn = new Coturn(
      {
        secret: turn.secret,
        port: turn.port,
        tls: turn.tls,
        relayIp: chooseRelayIp(turn.relayIp, config.rtcListenIp),
        // Parley's own media addresses: what it announces in ICE candidates and where it listens.
        allowedPeers: mediaAddresses(announcedAddress, config.rtcListenIp),
        quotas: turn.quotas,
      },
      log,
    );
    try {
      await coturn.start();
    } catch (error) {
      await coturn.close();
      throw error;
    }
  }
  log.info({ urls, server: turn.server, ttlSeconds: turn.ttlSeconds }, 'TURN relay offered to browsers');
  return { settings, coturn, close: async () => coturn?.close() };
}
