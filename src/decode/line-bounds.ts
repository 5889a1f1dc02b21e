/** Content bounds of a line, as indexes into a buffer. */
export interface LineContent {
  start: number;
  stop: number;
}

const BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * Trims the bytes around a line's content: a UTF-8 BOM when the line starts the file, leading
 * NUL bytes (padding left by a crash or by copytruncate), and a trailing `\r` (CRLF files).
 * `stop` excludes the `\n`. The content is empty when `start === stop`.
 */
export function lineContent(
  buf: Buffer,
  start: number,
  stop: number,
  atFileStart: boolean
): LineContent {
  let first = start;
  let last = stop;
  if (
    atFileStart &&
    last - first >= 3 &&
    buf[first] === BOM[0] &&
    buf[first + 1] === BOM[1] &&
    buf[first + 2] === BOM[2]
  ) {
    first += 3;
  }
  while (first < last && buf[first] === 0) first++;
  if (last > first && buf[last - 1] === 0x0d) last--;
  return { start: first, stop: last };
}
