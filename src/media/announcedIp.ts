import os from 'node:os';
import { isPrivateIPv4 } from '../net/clientAddress.ts';

export interface AnnouncedAddressChoice {
  address: string | undefined;
  /** Why this address, or what is wrong with it: logged loudly at start when present. */
  warning?: string;
}

/**
 * The address put in ICE candidates. Explicit ANNOUNCED_IP wins; a specific RTC_LISTEN_IP is used as
 * it is; with 0.0.0.0 the first public-looking interface address is taken, else a private one with a warning.
 */
export function chooseAnnouncedAddress(
  announcedIp: string | undefined,
  listenIp: string,
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces(),
): AnnouncedAddressChoice {
  if (announcedIp) return { address: announcedIp };
  if (listenIp !== '0.0.0.0' && listenIp !== '::') return { address: undefined };
  const candidates = Object.values(interfaces)
    .flat()
    .filter((info): info is os.NetworkInterfaceInfo => !!info && info.family === 'IPv4' && !info.internal)
    .map((info) => info.address);
  const publicAddress = candidates.find((address) => !isPrivateIPv4(address));
  if (publicAddress) return { address: publicAddress };
  const privateAddress = candidates[0] ?? '127.0.0.1';
  return {
    address: privateAddress,
    warning:
      `ANNOUNCED_IP is not set and this machine has no public IPv4 address; announcing ${privateAddress}. ` +
      'Calls will work on this machine and its local network only. Behind NAT or in a container, set ' +
      "ANNOUNCED_IP to the server's public IP and open the media ports (UDP and TCP).",
  };
}
