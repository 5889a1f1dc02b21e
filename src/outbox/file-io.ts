import { closeSync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';

/**
 * Appends all of `buffer` to a file opened with O_APPEND, looping over short writes. When a write
 * fails part-way, the file is cut back to `sizeBefore` so no partial line stays, and the write's
 * error is rethrown untouched. When the cut also fails, `onCutBackFailed` gets its error, so the
 * caller can retry the cut before its next write.
 */
export function appendWhole(
  fd: number,
  buffer: Buffer,
  sizeBefore: number,
  onCutBackFailed: (error: unknown) => void
): void {
  let written = 0;
  try {
    while (written < buffer.length) {
      written += writeSync(fd, buffer, written, buffer.length - written);
    }
  } catch (error) {
    if (written > 0) {
      try {
        ftruncateSync(fd, sizeBefore);
      } catch (cutError) {
        onCutBackFailed(cutError);
      }
    }
    throw error;
  }
}

/** fsyncs a directory so that files created, renamed or deleted in it survive a power loss. */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Returns the `code` of a Node.js system error, or undefined for other values. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code } = error as { code: unknown };
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
