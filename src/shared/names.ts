/** One rule for display names, used by the server schema and the browser form alike. */
export const NAME_MAX = 40;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/**
 * Bidi controls (embeddings/overrides U+202A–202E, isolates U+2066–2069, marks U+200E/200F and
 * U+061C) can make a name read as something else or reorder the text around it; zero-width
 * characters (U+200B–200D, U+2060, U+FEFF) make names that look identical but are not.
 */
const INVISIBLE_CHARS = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b\u200c\u2060\ufeff]/;
/** A zero-width joiner is refused too, except inside an emoji sequence (👩‍💻, 🏳️‍🌈), where it is what draws one picture. */
const LOOSE_JOINER = /(?<![\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f])\u200d|\u200d(?!\p{Extended_Pictographic})/u;

export type NameCheck = { ok: true; name: string } | { ok: false; error: string };

export function checkName(raw: string): NameCheck {
  const name = raw.trim();
  const length = [...name].length;
  if (length === 0) return { ok: false, error: 'Please enter your name.' };
  if (length > NAME_MAX) return { ok: false, error: `Names can be at most ${NAME_MAX} characters.` };
  if (CONTROL_CHARS.test(name)) return { ok: false, error: 'Names cannot contain control characters (tabs, line breaks…).' };
  if (INVISIBLE_CHARS.test(name) || LOOSE_JOINER.test(name)) return { ok: false, error: 'Names cannot contain invisible or direction-changing characters.' };
  return { ok: true, name };
}

/** "Ada Lovelace" → "AL", "😀 Smile" → "😀S". */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const first = (word: string | undefined) => (word ? [...word][0]!.toUpperCase() : '');
  return words.length > 1 ? first(words[0]) + first(words.at(-1)) : first(words[0]);
}
