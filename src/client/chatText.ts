/**
 * Chat text as the page shows it: plain text pieces and links. Nothing is ever parsed as HTML or
 * markdown; only http(s) addresses become links (opened with rel="noopener noreferrer").
 */
export interface ChatPart {
  text: string;
  /** Set for a link: the address, always http: or https:. */
  href: string | null;
  /** Plain text (the template's x-if cannot negate `href`). */
  isText: boolean;
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;
/** Punctuation that ends a sentence rather than the address ("see https://x.org."). */
const TRAILING = /[.,;:!?)\]}]+$/;

export function chatParts(text: string): ChatPart[] {
  const parts: ChatPart[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let address = match[0];
    const trailing = TRAILING.exec(address)?.[0] ?? '';
    address = address.slice(0, address.length - trailing.length);
    const start = match.index;
    if (start > last) parts.push(plain(text.slice(last, start)));
    const href = safeHref(address);
    parts.push({ text: address, href, isText: href === null });
    last = start + address.length;
  }
  if (last < text.length) parts.push(plain(text.slice(last)));
  return parts.filter((part) => part.text !== '');
}

const plain = (text: string): ChatPart => ({ text, href: null, isText: true });

/** The address as a link target, or null when it is not a plain http(s) URL. */
export function safeHref(address: string): string | null {
  try {
    const url = new URL(address);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** "14:05" in the reader's own clock. */
export function clockTime(ms: number): string {
  const date = new Date(ms);
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}
