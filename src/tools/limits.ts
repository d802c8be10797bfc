/** Result-size helpers: GPT Actions reject bodies over 100,000 characters, so tools trim and say so. */

export const MAX_TEXT_CHARS = 20_000;
export const MAX_ITEMS = 200;

export function capText(text: string, max = MAX_TEXT_CHARS): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  return { text: `${text.slice(0, max)}…`, truncated: true };
}

export function capItems<T>(items: T[], max = MAX_ITEMS): { items: T[]; truncated: boolean } {
  if (items.length <= max) return { items, truncated: false };
  return { items: items.slice(0, max), truncated: true };
}
