import { innerRecord } from './json-decoder.js';
import { parseJsonObject } from './json-object.js';
import type { FormatDecoder } from './record.js';

interface Carry {
  text: string;
  offset: number;
}

/**
 * Decodes pm2 logs written with `log_type: json`:
 * `{"message":"...","timestamp":"...","type":"out","process_id":0,"app_name":"bot"}`.
 * `message` is a raw chunk of the process output that may hold several lines or part of one,
 * so chunks are split on `\n` and an unfinished tail waits for the next chunk of the same
 * process and stream. A non-JSON bot line becomes the record `{ message, timestamp, type,
 * process_id, app_name }`.
 */
export function createPm2Decoder(maxLineChars: number): FormatDecoder {
  const carries = new Map<string, Carry>();
  return {
    decode(line, offset, end, out) {
      const envelope = parseJsonObject(line);
      if (envelope === undefined || typeof envelope.message !== 'string') return 'not_json';
      const key = `${envelope.app_name}\u0000${envelope.process_id}\u0000${envelope.type}`;
      const carry = carries.get(key);
      const pieces = envelope.message.split('\n');
      const tail = pieces.pop()!;
      for (let index = 0; index < pieces.length; index++) {
        let text = pieces[index]!;
        let lineOffset = offset;
        if (index === 0 && carry !== undefined) {
          text = carry.text + text;
          lineOffset = carry.offset;
          carries.delete(key);
        }
        if (text.endsWith('\r')) text = text.slice(0, -1);
        if (text.length === 0) continue;
        const outer = { ...envelope, message: text };
        out.push(innerRecord(text, outer, 'message', envelope.timestamp, lineOffset, end));
      }
      if (pieces.length > 0 || carry === undefined) {
        if (tail.length > 0) carries.set(key, { text: tail, offset });
      } else {
        carry.text += tail;
        // NOTE: a line that grows past maxLineBytes without a newline is dropped.
        if (carry.text.length > maxLineChars) carries.delete(key);
      }
      return 'decoded';
    },
    pendingOffset() {
      let oldest: number | null = null;
      for (const carry of carries.values()) {
        if (oldest === null || carry.offset < oldest) oldest = carry.offset;
      }
      return oldest;
    },
    reset: () => carries.clear(),
  };
}
