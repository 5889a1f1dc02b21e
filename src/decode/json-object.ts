/**
 * Parses `text` as a JSON object, or returns undefined when it is not JSON or is JSON of another
 * kind (array, string, number). Text that does not start with `{` is rejected without parsing,
 * so plain-text lines cost no exception.
 */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let first = 0;
  while (first < text.length && isJsonSpace(text.charCodeAt(first))) first++;
  if (text.charCodeAt(first) !== 0x7b) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}

function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}
