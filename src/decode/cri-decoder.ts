import { innerRecord } from './json-decoder.js';
import { PartialLines } from './partial-lines.js';
import type { FormatDecoder } from './record.js';

/**
 * Decodes CRI (containerd, CRI-O) log lines, `<RFC 3339 time> <stdout|stderr> <P|F> <content>`.
 * `P` parts are joined per stream until the `F` part. A non-JSON bot line becomes the record
 * `{ log, stream, time }`.
 */
export function createCriDecoder(maxLineChars: number): FormatDecoder {
  const partial = new PartialLines(maxLineChars);
  return {
    decode(line, offset, end, out) {
      const timeEnd = line.indexOf(' ');
      const streamEnd = timeEnd < 0 ? -1 : line.indexOf(' ', timeEnd + 1);
      if (streamEnd < 0) return 'not_json';
      const stream = line.slice(timeEnd + 1, streamEnd);
      if (stream !== 'stdout' && stream !== 'stderr') return 'not_json';
      let tagEnd = line.indexOf(' ', streamEnd + 1);
      if (tagEnd < 0) tagEnd = line.length;
      // The tag field may carry more flags after a colon (`F:x`); the first is the line tag.
      const tag = line.slice(streamEnd + 1, tagEnd).split(':')[0];
      if (tag !== 'P' && tag !== 'F') return 'not_json';
      const time = line.slice(0, timeEnd);
      const content = line.slice(tagEnd + 1);
      const joined = partial.add(stream, content, offset, tag === 'F');
      if (joined === null) return 'decoded';
      // NOTE: a joined line over maxLineBytes is dropped and counted as not JSON.
      if (joined === 'overflow') return 'not_json';
      const outer = { log: joined.text, stream, time };
      out.push(innerRecord(joined.text, outer, 'log', time, joined.offset, end));
      return 'decoded';
    },
    pendingOffset: () => partial.oldestOffset(),
    reset: () => partial.clear(),
  };
}
