import { innerRecord } from './json-decoder.js';
import { parseJsonObject } from './json-object.js';
import { PartialLines } from './partial-lines.js';
import type { FormatDecoder } from './record.js';

/**
 * Decodes Docker's json-file lines, `{"log":"...\n","stream":"stdout","time":"..."}`. The bot
 * line is `log` without its trailing newline. Docker splits lines longer than 16 KiB, so a
 * `log` without a newline is a part, and parts are joined per stream until one ends with `\n`.
 * A non-JSON bot line becomes the record `{ log, stream, time }`.
 */
export function createDockerDecoder(maxLineChars: number): FormatDecoder {
  const partial = new PartialLines(maxLineChars);
  return {
    decode(line, offset, end, out) {
      const envelope = parseJsonObject(line);
      if (envelope === undefined || typeof envelope.log !== 'string') return 'not_json';
      const stream = typeof envelope.stream === 'string' ? envelope.stream : '';
      let log = envelope.log;
      const last = log.endsWith('\n');
      if (last) log = log.slice(0, log.endsWith('\r\n') ? -2 : -1);
      const joined = partial.add(stream, log, offset, last);
      if (joined === null) return 'decoded';
      // NOTE: a joined line over maxLineBytes is dropped and counted as not JSON.
      if (joined === 'overflow') return 'not_json';
      const outer = { log: joined.text, stream, time: envelope.time };
      out.push(innerRecord(joined.text, outer, 'log', envelope.time, joined.offset, end));
      return 'decoded';
    },
    pendingOffset: () => partial.oldestOffset(),
    reset: () => partial.clear(),
  };
}
