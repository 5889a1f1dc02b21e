import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import {
  commitOffset,
  consumeLines,
  consumeRange,
  countLongLine,
  flushPendingAppend,
  type ReadContext,
  type TailSource,
} from './chunk-consumer.js';
import { digestMatches, FINGERPRINT_MAX_BYTES, TAIL_CHECK_MAX_BYTES } from './fingerprint.js';
import { skipNulBytes } from './long-lines.js';
import type { TrackedFile } from './tracked-file.js';

const NEWLINE = 0x0a;
/** A `.gz` stream cannot seek back, so a checkpoint behind the read position waits. */
const NO_TAIL: TailSource = async () => null;

/**
 * Outcome of a `.gz` read. `done`: the end of the stream was reached. `mismatch`: the bytes
 * before the checkpoint offset are not the checkpoint's, or the stream is shorter. `failed`:
 * the file is corrupt or still being written. `stopped`: the service stopped first.
 */
export type CompressedStatus = 'done' | 'mismatch' | 'failed' | 'stopped';

/** Waits for outbox space; resolves false when the service stops first. */
export type SpaceWaiter = () => Promise<boolean>;

/**
 * Decompresses the first bytes of a `.gz` file, up to 1024: what a fingerprint covers.
 * Returns null when the file is not a readable gzip stream.
 */
export async function readCompressedHead(path: string): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of decompress(path)) {
      parts.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= FINGERPRINT_MAX_BYTES) break;
    }
  } catch {
    if (length < FINGERPRINT_MAX_BYTES) return null;
  }
  return Buffer.concat(parts).subarray(0, FINGERPRINT_MAX_BYTES);
}

/**
 * Returns the decompressed size modulo 2^32 that a gzip trailer records (ISIZE), or null.
 * For a single-member file it shows cheaply whether a checkpoint sits at the end.
 */
export async function readCompressedSizeHint(path: string): Promise<number | null> {
  const handle = await open(path, 'r').catch(() => null);
  if (handle === null) return null;
  try {
    const { size } = await handle.stat();
    if (size < 18) return null;
    const trailer = Buffer.alloc(4);
    await handle.read(trailer, 0, 4, size - 4);
    return trailer.readUInt32LE(0);
  } finally {
    await handle.close();
  }
}

/**
 * Decompresses a whole `.gz` file and returns its decompressed size and last (up to 64)
 * bytes, or null when it is not a readable gzip stream.
 */
export async function readCompressedEnd(
  path: string
): Promise<{ size: number; tail: Buffer } | null> {
  let size = 0;
  let tail = Buffer.alloc(0);
  try {
    for await (const chunk of decompress(path)) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      tail = Buffer.concat([tail, bytes.subarray(-TAIL_CHECK_MAX_BYTES)]).subarray(
        -TAIL_CHECK_MAX_BYTES
      );
    }
  } catch {
    return null;
  }
  return { size, tail };
}

/**
 * Streams a `.gz` file into the file's processor from `file.readOffset` (an offset in the
 * decompressed bytes), first checking the tail check at the checkpoint offset on the way.
 * Lines are handed over in chunks of the shared buffer, as for plain files.
 */
export async function readCompressedFile(
  context: ReadContext,
  file: TrackedFile,
  path: string,
  waitForSpace: SpaceWaiter
): Promise<CompressedStatus> {
  const cursor = new DecompressedCursor(context, file, waitForSpace);
  const stream = decompress(path);
  try {
    for await (const chunk of stream) {
      if (context.isStopping()) return 'stopped';
      const status = await cursor.push(chunk as Buffer);
      if (status !== 'ok') return status;
    }
    return await cursor.finish();
  } catch (error) {
    const suppressed = context.warnings.take(`gzip:${file.key}`);
    if (suppressed >= 0) {
      context.logger.warn(
        { err: error, file: file.key, offset: file.readOffset, suppressed },
        'Reading a .gz generation failed (corrupt, or still being written); retrying on rescan.'
      );
    }
    return 'failed';
  } finally {
    stream.destroy();
  }
}

/** Opens a gunzip stream of a file; a read error of the file ends the stream with that error. */
function decompress(path: string) {
  const source = createReadStream(path, { highWaterMark: 1024 * 1024 });
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  source.on('error', (error) => gunzip.destroy(error));
  gunzip.on('close', () => source.destroy());
  return source.pipe(gunzip);
}

/**
 * Position in a decompressed stream: skips to the read offset (checking the tail check as it
 * passes the checkpoint offset), then fills the shared buffer and hands over whole lines.
 */
class DecompressedCursor {
  /** Decompressed bytes seen so far. */
  private position = 0;
  /** Up to 64 bytes just before `position`. */
  private recent: Buffer = Buffer.alloc(0);
  private started = false;
  /** Bytes in the shared buffer: the tail before `file.readOffset`, then unread data. */
  private fill = 0;

  constructor(
    private readonly context: ReadContext,
    private readonly file: TrackedFile,
    private readonly waitForSpace: SpaceWaiter
  ) {}

  async push(chunk: Buffer): Promise<'ok' | CompressedStatus> {
    let data = chunk;
    while (data.length > 0 && this.position < this.file.readOffset) {
      const checkAt = this.file.checkpoint.offset;
      const target = this.position < checkAt ? checkAt : this.file.readOffset;
      const step = Math.min(data.length, target - this.position);
      this.advance(data.subarray(0, step));
      data = data.subarray(step);
      if (this.position === checkAt && !this.tailCheckHolds()) return 'mismatch';
    }
    if (data.length === 0) return 'ok';
    this.begin();
    while (data.length > 0) {
      if (this.file.longLine !== null) {
        data = await this.skipLongLine(data);
        continue;
      }
      const buffer = this.context.buffer;
      const step = Math.min(data.length, buffer.length - this.fill);
      data.copy(buffer, this.fill, 0, step);
      this.fill += step;
      this.advance(data.subarray(0, step));
      data = data.subarray(step);
      if (this.fill === buffer.length) {
        const status = await this.flushLines();
        if (status !== 'ok') return status;
      }
    }
    return 'ok';
  }

  async finish(): Promise<CompressedStatus> {
    if (this.position < this.file.readOffset) return 'mismatch';
    if (this.position === this.file.checkpoint.offset && !this.tailCheckHolds()) return 'mismatch';
    this.begin();
    const status = await this.flushLines();
    if (status !== 'ok') return status;
    const file = this.file;
    if (file.longLine !== null) {
      // An unterminated over-long last line of a finished file: count it and move past it.
      countLongLine(this.context, file, file.longLine.start, this.position - file.longLine.start);
      file.longLine = null;
      file.readOffset = this.position;
      file.readTail = this.recent;
      await commitOffset(this.context, file, NO_TAIL);
      return 'done';
    }
    const start = file.readTail.length;
    if (this.fill > start) {
      let outcome = await consumeRange(
        this.context,
        file,
        this.context.buffer,
        start,
        this.fill,
        true,
        NO_TAIL
      );
      while (outcome === 'blocked') {
        if (!(await this.waitForSpace())) return 'stopped';
        outcome = (await flushPendingAppend(this.context, file, NO_TAIL)) ? 'ok' : 'blocked';
      }
    }
    return 'done';
  }

  private advance(bytes: Buffer): void {
    this.position += bytes.length;
    this.recent =
      bytes.length >= TAIL_CHECK_MAX_BYTES
        ? Buffer.from(bytes.subarray(bytes.length - TAIL_CHECK_MAX_BYTES))
        : Buffer.concat([this.recent, bytes]).subarray(-TAIL_CHECK_MAX_BYTES);
  }

  private tailCheckHolds(): boolean {
    const check = this.file.checkpoint.tailCheck;
    return check === null || digestMatches(this.recent.subarray(-check.length), check);
  }

  /** Puts the bytes before the read offset at the start of the shared buffer, once. */
  private begin(): void {
    if (this.started) return;
    this.started = true;
    this.file.readTail = Buffer.from(this.recent);
    this.file.readTail.copy(this.context.buffer, 0);
    this.fill = this.file.readTail.length;
  }

  /** Hands over the whole lines in the buffer and moves the rest to its start. */
  private async flushLines(): Promise<'ok' | 'stopped'> {
    const { context, file } = this;
    const buffer = context.buffer;
    const tailLength = file.readTail.length;
    const lastNewline = this.fill > tailLength ? buffer.lastIndexOf(NEWLINE, this.fill - 1) : -1;
    if (lastNewline < tailLength) {
      if (this.fill === buffer.length && (await this.dropPadding())) return 'ok';
      if (this.fill === buffer.length) {
        // A full buffer without `\n`: the line is too long; drop its bytes and find its end.
        file.longLine = { start: file.readOffset, scannedTo: this.position };
        this.fill = tailLength;
      }
      return 'ok';
    }
    const regionStart = file.readOffset;
    const end = lastNewline + 1;
    for (;;) {
      const start = tailLength + (file.readOffset - regionStart);
      if (start >= end) break;
      if ((await consumeLines(context, file, buffer, start, end, NO_TAIL)) === 'ok') break;
      do {
        if (!(await this.waitForSpace())) return 'stopped';
      } while (!(await flushPendingAppend(context, file, NO_TAIL)));
    }
    const keep = file.readTail.length;
    buffer.copyWithin(0, end - keep, this.fill);
    this.fill = keep + (this.fill - end);
    return 'ok';
  }

  /**
   * Drops the NUL bytes (copytruncate padding) at the read offset from the buffer and moves the
   * checkpoint past them; false when there are none. They do not count toward a line's length.
   */
  private async dropPadding(): Promise<boolean> {
    const { context, file } = this;
    const buffer = context.buffer;
    const tailLength = file.readTail.length;
    const contentStart = skipNulBytes(buffer, tailLength, this.fill);
    if (contentStart === tailLength) return false;
    const keep = Math.min(TAIL_CHECK_MAX_BYTES, file.readOffset + (contentStart - tailLength));
    file.readOffset += contentStart - tailLength;
    file.readTail = Buffer.from(buffer.subarray(contentStart - keep, contentStart));
    buffer.copyWithin(0, contentStart - keep, this.fill);
    this.fill = keep + (this.fill - contentStart);
    await commitOffset(context, file, NO_TAIL);
    return true;
  }

  /** Drops the bytes of an over-long line up to its `\n`; returns what follows it. */
  private async skipLongLine(data: Buffer): Promise<Buffer> {
    const file = this.file;
    const skip = file.longLine!;
    const newline = data.indexOf(NEWLINE);
    if (newline < 0) {
      skip.scannedTo += data.length;
      this.advance(data);
      return Buffer.alloc(0);
    }
    this.advance(data.subarray(0, newline + 1));
    const end = skip.scannedTo + newline + 1;
    countLongLine(this.context, file, skip.start, end - 1 - skip.start);
    file.longLine = null;
    file.readOffset = end;
    file.readTail = Buffer.from(this.recent);
    file.readTail.copy(this.context.buffer, 0);
    this.fill = file.readTail.length;
    await commitOffset(this.context, file, NO_TAIL);
    return data.subarray(newline + 1);
  }
}
