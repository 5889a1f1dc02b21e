import type { FileHandle } from 'node:fs/promises';
import {
  commitOffset,
  consumeLines,
  consumeRange,
  countLongLine,
  flushPendingAppend,
  type ReadContext,
  type TailSource,
} from './chunk-consumer.js';
import {
  digestOf,
  FINGERPRINT_MAX_BYTES,
  headMatches,
  readHead,
  readTailBytes,
  TAIL_CHECK_MAX_BYTES,
} from './fingerprint.js';
import { isTruncated } from './identity.js';
import { skipNulBytes } from './long-lines.js';
import { INITIAL_READ_BYTES, type TrackedFile } from './tracked-file.js';

const NEWLINE = 0x0a;

/**
 * Outcome of a read. `idle`: the end of the file. `partial`: a last line without `\n` waits.
 * `more`: the chunk budget ran out, or a longer fingerprint must be saved before reading on. `blocked`: the outbox is full. `truncated`: the bytes under
 * the read position changed, because the size dropped below it or other bytes precede it.
 */
export type ReadStatus = 'idle' | 'partial' | 'more' | 'blocked' | 'truncated';

/** Settings of one `readPlainFile` call. */
export interface ReadOptions {
  /** Process a last line without `\n` now (run once) instead of waiting. */
  finalPartial: boolean;
  partialLineTimeoutMs: number;
  /** Chunks to read before giving other files a turn. */
  maxChunks: number;
  now: number;
}

/**
 * Reads a plain file through its descriptor from `file.readOffset`, one `read` per chunk into
 * the shared buffer. Each read includes the 64 bytes before the position to notice a rewrite,
 * and each chunk costs one processor call for the range up to its last `\n`.
 */
export async function readPlainFile(
  context: ReadContext,
  file: TrackedFile,
  options: ReadOptions
): Promise<ReadStatus> {
  const handle = file.handle;
  if (handle === null) return 'idle';
  const tailSource: TailSource = (offset) => readTailBytes(handle, offset);
  if (!(await flushPendingAppend(context, file, tailSource))) return 'blocked';

  const stats = await handle.stat();
  if (stats.size !== file.size) file.lastActivityMs = options.now;
  file.size = stats.size;
  if (file.size < file.readOffset) return 'truncated';
  if (!(await extendFingerprint(context, file, handle))) return 'truncated';
  // The caller saves the longer fingerprint before the next read queues lines past the saved one.
  if (file.unsaved) return 'more';

  for (let chunk = 0; chunk < options.maxChunks; chunk++) {
    if (file.longLine !== null) {
      if (!(await skipLongLine(context, file, handle))) return 'idle';
      await commitOffset(context, file, tailSource);
      continue;
    }
    if (file.readOffset >= file.size || context.isStopping()) return 'idle';
    // A full outbox pauses reading but not the check for a rewrite: a copytruncate noticed only
    // after the next one would lose the lines written in between.
    if (context.sink.isFull()) return (await isRewritten(file, handle)) ? 'truncated' : 'blocked';

    const buffer = context.buffer;
    const tailLength = file.readTail.length;
    const position = file.readOffset - tailLength;
    const length = Math.min(file.readSizeBytes, buffer.length, file.size - position);
    const filled = await readInto(handle, buffer, length, position);
    if (filled < tailLength || !buffer.subarray(0, tailLength).equals(file.readTail)) {
      return 'truncated';
    }
    if (filled === tailLength) return 'idle';

    // NUL padding before a line is skipped chunk by chunk, never buffered whole. A run that
    // reaches the end of the file waits: the bytes after it are not written yet.
    const contentStart = skipNulBytes(buffer, tailLength, filled);
    if (contentStart > tailLength && (contentStart < filled || position + filled < file.size)) {
      await skipPadding(context, file, contentStart - tailLength, tailSource);
      continue;
    }

    const more = position + filled < file.size;
    const lastNewline = buffer.lastIndexOf(NEWLINE, filled - 1);
    if (lastNewline < tailLength) {
      const lineBytes = filled - contentStart;
      if (lineBytes > context.maxLineBytes) {
        file.longLine = { start: file.readOffset, scannedTo: file.readOffset + lineBytes };
        continue;
      }
      // The line goes on past this read: read again with room for a whole line, no more.
      if (more && length < buffer.length) {
        const lineRoom = context.maxLineBytes + 1 + TAIL_CHECK_MAX_BYTES;
        file.readSizeBytes = Math.min(
          Math.max(length * 2, INITIAL_READ_BYTES),
          lineRoom,
          buffer.length
        );
        if (file.readSizeBytes > length) continue;
      }
      return readPartialLine(context, file, tailLength, filled, options, tailSource);
    }
    // A full read with more bytes behind it means a backlog, so the next read is twice as large.
    if (more && filled === length) {
      file.readSizeBytes = Math.min(length * 2, buffer.length);
    }
    const outcome = await consumeLines(
      context,
      file,
      buffer,
      tailLength,
      lastNewline + 1,
      tailSource
    );
    if (outcome === 'blocked') return 'blocked';
    file.partial = null;
  }
  if (file.readOffset < file.size) return 'more';
  file.readSizeBytes = INITIAL_READ_BYTES;
  return 'idle';
}

/**
 * Handles a last line without `\n`: processed as final once it stayed unchanged for the
 * timeout (or at once in a one-off run), else remembered so the caller can wait.
 */
async function readPartialLine(
  context: ReadContext,
  file: TrackedFile,
  start: number,
  end: number,
  options: ReadOptions,
  tailSource: TailSource
): Promise<ReadStatus> {
  if (file.rejectedPartialSize === file.size) return 'idle';
  const partial = file.partial;
  const unchanged =
    partial !== null && partial.offset === file.readOffset && partial.size === file.size;
  if (!unchanged) {
    file.partial = { offset: file.readOffset, size: file.size, sinceMs: options.now };
    if (!options.finalPartial) return 'partial';
  } else if (
    !options.finalPartial &&
    options.now - partial.sinceMs < options.partialLineTimeoutMs
  ) {
    return 'partial';
  }
  const outcome = await consumeRange(context, file, context.buffer, start, end, true, tailSource);
  if (outcome === 'blocked') return 'blocked';
  if (outcome === 'rejected') file.rejectedPartialSize = file.size;
  file.partial = null;
  return 'idle';
}

/**
 * Moves the read position and the checkpoint past `length` NUL bytes at the read position,
 * which the shared buffer contains after the file's tail bytes. They contain no line to process.
 */
async function skipPadding(
  context: ReadContext,
  file: TrackedFile,
  length: number,
  tailSource: TailSource
): Promise<void> {
  const end = file.readTail.length + length;
  context.logger.debug(
    { file: file.key, offset: file.readOffset, lengthBytes: length },
    'Skipped NUL padding before a line.'
  );
  file.readOffset += length;
  file.readTail = Buffer.from(
    context.buffer.subarray(Math.max(0, end - TAIL_CHECK_MAX_BYTES), end)
  );
  await commitOffset(context, file, tailSource);
}

/**
 * Scans forward for the end of a line longer than `maxLineBytes`, through the shared buffer
 * and without keeping its bytes. Returns false when the file ends before the line does.
 */
async function skipLongLine(
  context: ReadContext,
  file: TrackedFile,
  handle: FileHandle
): Promise<boolean> {
  const skip = file.longLine;
  if (skip === null) return true;
  while (skip.scannedTo < file.size) {
    const buffer = context.buffer;
    const filled = await readInto(
      handle,
      buffer,
      Math.min(file.readSizeBytes, buffer.length, file.size - skip.scannedTo),
      skip.scannedTo
    );
    if (filled === 0) return false;
    const newline = buffer.indexOf(NEWLINE);
    if (newline < 0 || newline >= filled) {
      skip.scannedTo += filled;
      continue;
    }
    const end = skip.scannedTo + newline + 1;
    countLongLine(context, file, skip.start, end - 1 - skip.start);
    file.longLine = null;
    file.readOffset = end;
    file.readTail = await readTailBytes(handle, end);
    file.lastActivityMs = Date.now();
    return true;
  }
  return false;
}

/**
 * Extends a fingerprint taken while the file was shorter than 1024 bytes, once it has grown,
 * and marks the file unsaved. The longer fingerprint must be saved before lines past the saved
 * one are queued: after a crash the checkpoint's offset moves up to the lines in the outbox,
 * and a fingerprint shorter than that offset (empty for a file found empty) would let any file
 * pass for this one. Returns false when the file's first bytes no longer match: it was
 * rewritten.
 */
async function extendFingerprint(
  context: ReadContext,
  file: TrackedFile,
  handle: FileHandle
): Promise<boolean> {
  const fingerprint = file.checkpoint.fingerprint;
  if (fingerprint.length >= FINGERPRINT_MAX_BYTES || file.size <= fingerprint.length) {
    // At offset 0 no bytes precede the read position, so only the first bytes tell a rewrite.
    if (file.readOffset > 0 || fingerprint.length === 0) return true;
    return headMatches(await readHead(handle, file.size), fingerprint);
  }
  const head = await readHead(handle, file.size);
  if (!headMatches(head, fingerprint)) return false;
  file.checkpoint = { ...file.checkpoint, fingerprint: digestOf(head), updatedAt: Date.now() };
  context.book.upsert(file.checkpoint);
  file.unsaved = true;
  return true;
}

/**
 * True when the bytes before the read position changed, or the first bytes no longer match the
 * fingerprint (the only check at offset 0, where no bytes precede the read position).
 */
async function isRewritten(file: TrackedFile, handle: FileHandle): Promise<boolean> {
  if (await isTruncated(file)) return true;
  return !headMatches(await readHead(handle, file.size), file.checkpoint.fingerprint);
}

/** Reads `length` bytes at `position` into the start of `buffer`; fewer only at end of file. */
async function readInto(
  handle: FileHandle,
  buffer: Buffer,
  length: number,
  position: number
): Promise<number> {
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}
