/** One rule for display names, used by the server schema and the browser form alike. */
export const NAME_MAX = 40;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export type NameCheck = { ok: true; name: string } | { ok: false; error: string };

export function checkName(raw: string): NameCheck {
  const name = raw.trim();
  const length = [...name].length;
  if (length === 0) return { ok: false, error: 'Please enter your name.' };
  if (length > NAME_MAX) return { ok: false, error: `Names can be at most ${NAME_MAX} characters.` };
  if (CONTROL_CHARS.test(name)) return { ok: false, error: 'Names cannot contain control characters (tabs, line breaks…).' };
  return { ok: true, name };
}

/** "Ada Lovelace" → "AL", "😀 Smile" → "😀S". */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const first = (word: string | undefined) => (word ? [...word][0]!.toUpperCase() : '');
  return words.length > 1 ? first(words[0]) + first(words.at(-1)) : first(words[0]);
}
