/** Maximum characters of a value shown in rule tester messages. */
export const MAX_SHOWN_CHARS = 40;

/**
 * Formats a record value for rule tester messages: JSON text cut to `MAX_SHOWN_CHARS`
 * characters with `...`, and `nothing` for a missing value.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text.length <= MAX_SHOWN_CHARS) return text;
  return `${text.slice(0, MAX_SHOWN_CHARS)}...`;
}
