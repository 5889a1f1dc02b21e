import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** Bytes at the start of a file that its fingerprint covers, at most. */
export const FINGERPRINT_MAX_BYTES = 1024;
/** Bytes just before a checkpoint's offset that its tail check covers, at most. */
export const TAIL_CHECK_MAX_BYTES = 64;

/** sha256 (hex) of a byte range, with the range's length. */
export interface ByteDigest {
  length: number;
  hash: string;
}

/** Hashes `bytes` with sha256. */
export function digestOf(bytes: Uint8Array): ByteDigest {
  return { length: bytes.length, hash: createHash('sha256').update(bytes).digest('hex') };
}

/** True when `bytes` hash to `digest` (same length and hash). */
export function digestMatches(bytes: Uint8Array, digest: ByteDigest): boolean {
  return bytes.length === digest.length && digestOf(bytes).hash === digest.hash;
}

/**
 * Reads up to `length` bytes at `position` into a fresh buffer; the result is shorter only
 * when the file ends first.
 */
export async function readBytesAt(
  handle: FileHandle,
  position: number,
  length: number
): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(bytes, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return bytes.subarray(0, filled);
}

/** Reads the first min(size, 1024) bytes of a file: the bytes its fingerprint covers. */
export function readHead(handle: FileHandle, size: number): Promise<Buffer> {
  return readBytesAt(handle, 0, Math.min(size, FINGERPRINT_MAX_BYTES));
}

/** Reads the bytes that a tail check at `offset` covers: [offset - min(offset, 64), offset). */
export function readTailBytes(handle: FileHandle, offset: number): Promise<Buffer> {
  const length = Math.min(offset, TAIL_CHECK_MAX_BYTES);
  return readBytesAt(handle, offset - length, length);
}

/** Returns the tail check of the bytes ending at an offset, or null at offset 0. */
export function tailCheckOf(tailBytes: Uint8Array): ByteDigest | null {
  return tailBytes.length === 0 ? null : digestOf(tailBytes);
}

/**
 * Tells whether a file's head (its first bytes, as read by `readHead`) starts with the bytes
 * a fingerprint was taken of. A file shorter than the fingerprint cannot match.
 */
export function headMatches(head: Buffer, fingerprint: ByteDigest): boolean {
  if (head.length < fingerprint.length) return false;
  return digestMatches(head.subarray(0, fingerprint.length), fingerprint);
}

/** Tells whether the bytes before an offset match a tail check; null always matches. */
export function tailMatches(tailBytes: Buffer, tailCheck: ByteDigest | null): boolean {
  return tailCheck === null || digestMatches(tailBytes, tailCheck);
}
