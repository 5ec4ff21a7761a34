/**
 * The one list of private IPv4 ranges, for the server (announced address, logs, budgets) and the
 * browser's connection check alike: loopback, RFC 1918, link-local and carrier-grade NAT — addresses
 * no one outside this host or its local network can reach.
 */
export const LOOPBACK_V4 = /^127\./;
const PRIVATE_V4 = [LOOPBACK_V4, /^10\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^169\.254\./, /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./];

export function isPrivateIPv4(address: string): boolean {
  return PRIVATE_V4.some((re) => re.test(address));
}
