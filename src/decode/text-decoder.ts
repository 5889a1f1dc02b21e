import type { FormatDecoder } from './record.js';

/**
 * Decodes plain-text lines with the bot's `pattern`, a regular expression with named groups
 * that become the record's fields. A line the pattern does not match is counted as not parsed
 * (reported with the not-JSON lines).
 */
export function createTextDecoder(pattern: RegExp): FormatDecoder {
  return {
    decode(line, offset, end, out) {
      const match = pattern.exec(line);
      if (match?.groups === undefined) return 'not_json';
      const fields: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(match.groups)) {
        if (value !== undefined) fields[name] = value;
      }
      out.push({ fields, jsonText: null, structured: true, offset, end });
      return 'decoded';
    },
    pendingOffset: () => null,
    reset() {},
  };
}
