import type { FileCheckpoint } from './checkpoint-store.js';

/** Content of a valid `state.json`, with unknown keys left out. */
export interface StateFileContent {
  savedAt: number;
  files: FileCheckpoint[];
  bots?: string[];
}

/** The first fault found: `where` is a key path such as `files.1.key`, empty for the top level. */
export interface StateFileFault {
  where: string;
  message: string;
}

/** Thrown inside the checks below and turned into a fault by `parseStateFile`. */
class Fault extends Error {
  constructor(
    readonly where: string,
    message: string
  ) {
    super(message);
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const FINGERPRINT_MAX_BYTES = 1024;

/**
 * Checks the parsed JSON of a version 1 state file and copies out the fields the agent uses.
 * The agent writes this file itself, so a fault means damage or a hand edit. The check is
 * written out instead of using zod, because importing zod alone took the long-running process
 * about 8 MiB of anonymous memory, for a dozen fields.
 */
export function parseStateFile(
  value: unknown,
  version: number
): { ok: true; content: StateFileContent } | { ok: false; fault: StateFileFault } {
  try {
    return { ok: true, content: readContent(value, version) };
  } catch (error) {
    if (error instanceof Fault)
      return { ok: false, fault: { where: error.where, message: error.message } };
    throw error;
  }
}

function readContent(value: unknown, version: number): StateFileContent {
  const top = record(value, '');
  if (top.version !== version) throw new Fault('version', `must be ${version}`);
  const savedAt = finite(top.savedAt, 'savedAt');
  if (!Array.isArray(top.files)) throw new Fault('files', 'must be an array');
  const files: FileCheckpoint[] = [];
  const seen = new Set<string>();
  for (const [index, item] of top.files.entries()) {
    const file = readCheckpoint(item, `files.${index}`);
    if (seen.has(file.key)) throw new Fault(`files.${index}.key`, `duplicate key ${file.key}`);
    seen.add(file.key);
    files.push(file);
  }
  // Absent in files written before the list existed.
  if (top.bots === undefined) return { savedAt, files };
  if (!Array.isArray(top.bots)) throw new Fault('bots', 'must be an array');
  const bots = top.bots.map((bot, index) => text(bot, `bots.${index}`));
  return { savedAt, files, bots };
}

function readCheckpoint(value: unknown, where: string): FileCheckpoint {
  const item = record(value, where);
  const key = text(item.key, `${where}.key`);
  if (key.length === 0) throw new Fault(`${where}.key`, 'must not be empty');
  const fingerprint = readDigest(item.fingerprint, `${where}.fingerprint`);
  if (fingerprint.length > FINGERPRINT_MAX_BYTES) {
    throw new Fault(`${where}.fingerprint.length`, `must be at most ${FINGERPRINT_MAX_BYTES}`);
  }
  return {
    key,
    bot: text(item.bot, `${where}.bot`),
    path: text(item.path, `${where}.path`),
    dev: byteCount(item.dev, `${where}.dev`),
    ino: byteCount(item.ino, `${where}.ino`),
    fingerprint,
    offset: byteCount(item.offset, `${where}.offset`),
    tailCheck: item.tailCheck === null ? null : readDigest(item.tailCheck, `${where}.tailCheck`),
    updatedAt: finite(item.updatedAt, `${where}.updatedAt`),
  };
}

function readDigest(value: unknown, where: string): { length: number; hash: string } {
  const digest = record(value, where);
  const hash = text(digest.hash, `${where}.hash`);
  if (!SHA256_HEX.test(hash)) throw new Fault(`${where}.hash`, 'must be a sha256 hex digest');
  return { length: byteCount(digest.length, `${where}.length`), hash };
}

function record(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Fault(where, 'must be an object');
  }
  return value as Record<string, unknown>;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new Fault(where, 'must be a string');
  return value;
}

function finite(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Fault(where, 'must be a number');
  }
  return value;
}

function byteCount(value: unknown, where: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new Fault(where, 'must be a non-negative whole number');
  }
  return value as number;
}
