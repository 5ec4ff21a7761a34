/**
 * Addresses as budgets: which keys an address spends from (its IPv6 /64, /56 and /48 alike), loopback
 * and private addresses (the ranges themselves are in shared/addresses.ts), and address text clean-up. Who a request comes from (proxies
 * and all) is ClientResolver's (clientResolver.ts).
 */
import net from 'node:net';
import { isPrivateIPv4, LOOPBACK_V4 } from '../shared/addresses.ts';

export { isPrivateIPv4 };

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || LOOPBACK_V4.test(address.replace(/^::ffff:/i, '')));
}

/** Some proxies write "1.2.3.4:5678" or "[2001:db8::1]:443": the port must not make a new client. */
export function withoutPort(value: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) return bracketed[1]!;
  const v4WithPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(value);
  return v4WithPort ? v4WithPort[1]! : value;
}

/**
 * Every budget an address spends from, each with how many times the base allowance it gets: an IPv4
 * address itself (1×); an IPv6 address its /64 (1×), /56 (2×) and /48 (4×), since one subscriber
 * holds at least a /64 and often a /56 or a whole /48, and could otherwise rotate through it.
 */
export function addressKeys(address: string): { key: string; scale: number }[] {
  const key = addressKey(address);
  if (!key.endsWith('::/64')) return [{ key, scale: 1 }];
  const groups = ipv6Groups(address)!;
  const prefix = (bits: 56 | 48) => {
    const kept = groups.slice(0, 4).map((g, i) => (i * 16 + 16 <= bits ? g : i * 16 < bits ? g & (0xffff << (16 - (bits - i * 16))) & 0xffff : 0));
    return `${kept.slice(0, Math.ceil(bits / 16)).map((g) => g.toString(16)).join(':')}::/${bits}`;
  };
  return [{ key, scale: 1 }, { key: prefix(56), scale: 2 }, { key: prefix(48), scale: 4 }];
}

/**
 * The budget an address spends from: an IPv4 address itself (also when written IPv4-mapped), an IPv6
 * address its /64, since one subscriber usually holds a whole /64 and could otherwise rotate through it.
 */
export function addressKey(address: string): string {
  const groups = ipv6Groups(address);
  if (!groups) return address;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  // IPv4-mapped (::ffff:a.b.c.d), -translated (::ffff:0:a.b.c.d) and -compatible (::a.b.c.d) forms.
  const middle = `${groups[4]}:${groups[5]}`;
  if (zeros(0, 4) && (middle === '0:65535' || middle === '65535:0' || middle === '0:0')) return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** An IPv6 address as its eight 16-bit groups (a dotted IPv4 tail counts as two), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  const bare = address.split('%')[0]!;
  if (!net.isIPv6(bare)) return undefined;
  const parse = (part: string) => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a, b, c, d] = piece.split('.').map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(parseInt(piece, 16));
    }
    return out;
  };
  const [head = '', tail] = bare.split('::');
  const front = parse(head);
  if (tail === undefined) return front;
  const back = parse(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}
