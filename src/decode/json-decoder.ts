import { parseJsonObject } from './json-object.js';
import type { DecodedRecord, FormatDecoder } from './record.js';

/** Decodes the `json` format: one JSON object per line. Holds no state between lines. */
export function createJsonDecoder(): FormatDecoder {
  return {
    decode(line, offset, end, out) {
      const fields = parseJsonObject(line);
      if (fields === undefined) return 'not_json';
      out.push({ fields, jsonText: line, structured: true, offset, end });
      return 'decoded';
    },
    pendingOffset: () => null,
    reset() {},
  };
}

/**
 * Builds the record for a bot line found inside a container or pm2 envelope: the line's own
 * fields when it is a JSON object, otherwise the envelope with the line under `lineKey`.
 */
export function innerRecord(
  line: string,
  envelope: Record<string, unknown>,
  lineKey: string,
  envelopeTime: unknown,
  offset: number,
  end: number
): DecodedRecord {
  const fields = parseJsonObject(line);
  if (fields !== undefined) {
    return { fields, jsonText: line, structured: true, envelopeTime, offset, end };
  }
  return {
    fields: { ...envelope, [lineKey]: line },
    jsonText: null,
    structured: false,
    envelopeTime,
    offset,
    end,
  };
}
