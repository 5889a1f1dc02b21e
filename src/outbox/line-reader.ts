import { readSync } from 'node:fs';

/** Bytes read per `read(2)`; a longer line doubles the buffer until it fits. */
const CHUNK_BYTES = 256 * 1024;

/**
 * Called for each complete line with its text (without the newline) and its byte range
 * `[start, end)`, where `end` is just past the newline. Returning false stops the scan.
 */
export type LineVisitor = (text: string, start: number, end: number) => boolean | undefined;

/**
 * Reads the complete lines of `[start, end)` of an open file in chunks, so memory stays at one
 * chunk whatever the file size. Returns the offset just past the last line visited, or `start`
 * when none was. A last line without newline is not visited.
 */
export function readLines(fd: number, start: number, end: number, visit: LineVisitor): number {
  let buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(end - start, 1)));
  let position = start;
  while (position < end) {
    const length = readChunk(fd, buffer, position, end);
    let lineStart = 0;
    let newline = buffer.indexOf(10, 0);
    while (newline !== -1 && newline < length) {
      const text = buffer.toString('utf8', lineStart, newline);
      const lineEnd = position + newline + 1;
      if (visit(text, position + lineStart, lineEnd) === false) return lineEnd;
      lineStart = newline + 1;
      newline = buffer.indexOf(10, lineStart);
    }
    if (lineStart === 0) {
      // No newline in the whole buffer: either the window (or the file, when it is shorter than
      // the window) ends in a line without one, or the line needs a bigger buffer.
      if (length < buffer.length || position + length >= end) return position;
      buffer = Buffer.allocUnsafe(buffer.length * 2);
      continue;
    }
    position += lineStart;
  }
  return position;
}

/** Fills `buffer` from `position`, up to `end`; returns the byte count read, less at end of file. */
function readChunk(fd: number, buffer: Buffer, position: number, end: number): number {
  const requested = Math.min(buffer.length, end - position);
  let filled = 0;
  while (filled < requested) {
    const count = readSync(fd, buffer, filled, requested - filled, position + filled);
    if (count === 0) break;
    filled += count;
  }
  return filled;
}
