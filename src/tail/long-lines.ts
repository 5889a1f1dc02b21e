const NEWLINE = 0x0a;

/** Byte range of one line in a buffer: [start, end), with `end` just past its `\n`. */
export interface LineRange {
  start: number;
  end: number;
}

/**
 * Returns the index of the first byte of `buf[start, end)` that is not NUL, or `end`. A writer
 * without O_APPEND pads a file cut by copytruncate with NULs up to its old size.
 */
export function skipNulBytes(buf: Buffer, start: number, end: number): number {
  let index = start;
  while (index < end && buf[index] === 0) index++;
  return index;
}

/**
 * Finds the first line in `buf[start, end)` whose length without its `\n` exceeds
 * `maxLineBytes`; `buf[end - 1]` must be `\n`. Leading NUL bytes do not count, because the
 * line processor trims them. Jumps `maxLineBytes` ahead and looks back for a newline, so the
 * cost per chunk is a few native searches rather than a visit to every line.
 */
export function findLongLine(
  buf: Buffer,
  start: number,
  end: number,
  maxLineBytes: number
): LineRange | null {
  let lineStart = start;
  while (lineStart < end) {
    // A NUL is never `\n`, so the content starts on the same line, at its `\n` at the latest.
    const probe = skipNulBytes(buf, lineStart, end) + maxLineBytes;
    // Every line from lineStart on ends by end - 1 <= probe, so none is longer than the limit.
    if (probe >= end - 1) return null;
    const newline = buf.lastIndexOf(NEWLINE, probe);
    if (newline >= lineStart) {
      lineStart = newline + 1;
      continue;
    }
    const lineEnd = buf.indexOf(NEWLINE, probe) + 1;
    return { start: lineStart, end: lineEnd };
  }
  return null;
}
