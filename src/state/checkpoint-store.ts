import {
  closeSync,
  copyFileSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';
import { errorCode, fsyncDirectory } from '../outbox/file-io.js';
import { StateSaveError, StateUnreadableError, StateVersionError } from './state-errors.js';
import { parseStateFile } from './state-file-format.js';

export { StateSaveError, StateUnreadableError, StateVersionError } from './state-errors.js';

/** The state file format this agent reads and writes. */
export const STATE_VERSION = 1;
export const STATE_FILE = 'state.json';
export const PREVIOUS_STATE_FILE = 'state.json.prev';

/** Read position and identity of one log file. */
export interface FileCheckpoint {
  /** Stable id assigned when the file is first seen. */
  key: string;
  bot: string;
  /** Last path the file was seen under. */
  path: string;
  dev: number;
  ino: number;
  /** sha256 hex of the first `length` bytes (at most 1024). */
  fingerprint: { length: number; hash: string };
  /** Bytes before it are processed: their events are in the outbox. */
  offset: number;
  /** sha256 of bytes [offset - length, offset), or null when not known. */
  tailCheck: { length: number; hash: string } | null;
  /** Epoch ms. */
  updatedAt: number;
}

/** The checkpoints read on start and which file they came from. */
export interface StateLoadResult {
  files: FileCheckpoint[];
  /** Epoch ms of the save that wrote them, or null on a first start. */
  savedAt: number | null;
  /** `current` is state.json, `previous` its previous copy, `empty` a first start. */
  source: 'current' | 'previous' | 'empty';
  /** Bots whose tail service started before; undefined when the file does not list them. */
  bots?: string[];
}

type ReadOutcome =
  | { kind: 'ok'; savedAt: number; files: FileCheckpoint[]; bots?: string[] }
  | { kind: 'missing' }
  | { kind: 'unusable'; reason: string };

/**
 * Reads the checkpoints of `dir`: `state.json`, or its previous copy when the newest file is
 * missing, unreadable or invalid (logging a warning naming both). Throws StateVersionError for a
 * version this agent does not read, and StateUnreadableError when neither file is usable.
 */
export function loadState(dir: string, logger: Logger): StateLoadResult {
  const currentPath = join(dir, STATE_FILE);
  const previousPath = join(dir, PREVIOUS_STATE_FILE);
  const current = readStateFile(currentPath);
  if (current.kind === 'ok') {
    return {
      files: current.files,
      savedAt: current.savedAt,
      source: 'current',
      bots: current.bots,
    };
  }

  const previous = readStateFile(previousPath);
  if (previous.kind === 'ok') {
    logger.warn(
      {
        stateFile: currentPath,
        reason: current.kind === 'missing' ? 'missing' : current.reason,
        previousFile: previousPath,
        previousSavedAt: previous.savedAt,
      },
      'State file is not usable; starting from its previous copy (lines read since that save are read again).'
    );
    return {
      files: previous.files,
      savedAt: previous.savedAt,
      source: 'previous',
      bots: previous.bots,
    };
  }
  if (current.kind === 'missing' && previous.kind === 'missing') {
    return { files: [], savedAt: null, source: 'empty' };
  }
  throw new StateUnreadableError(dir, describe(current), describe(previous));
}

function describe(outcome: ReadOutcome): string | null {
  if (outcome.kind === 'unusable') return outcome.reason;
  return null;
}

function readStateFile(path: string): ReadOutcome {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unusable', reason: `cannot be read: ${messageOf(error)}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'unusable', reason: `is not valid JSON: ${messageOf(error)}` };
  }
  const version = (value as { version?: unknown } | null)?.version;
  if (version !== undefined && version !== STATE_VERSION) {
    throw new StateVersionError(path, version, STATE_VERSION);
  }
  const parsed = parseStateFile(value, STATE_VERSION);
  if (!parsed.ok) {
    const where = parsed.fault.where === '' ? 'the top level' : parsed.fault.where;
    return { kind: 'unusable', reason: `is invalid at ${where}: ${parsed.fault.message}` };
  }
  const { savedAt, files, bots } = parsed.content;
  return { kind: 'ok', savedAt, files, bots };
}

/**
 * Returns the bots listed as started in `state.json` (or its previous copy when the newest is
 * not usable), or an empty list when neither lists any. Never throws: `loadState` reports
 * unusable files.
 */
export function loadStartedBots(dir: string): string[] {
  try {
    for (const name of [STATE_FILE, PREVIOUS_STATE_FILE]) {
      const outcome = readStateFile(join(dir, name));
      if (outcome.kind === 'ok') return outcome.bots ?? [];
    }
  } catch {
    // An unknown version: loadState throws for it first.
  }
  return [];
}

/**
 * Writes the checkpoints (and, when given, the bots that have started) durably, with a valid
 * `state.json` at every instant: the new content goes
 * to `state.json.tmp` (fsynced), the current file becomes `state.json.prev` through a hard link,
 * the temp file is renamed over `state.json`, and the directory is fsynced. Throws StateSaveError
 * (ENOSPC, EACCES, ...) with the previous state left intact.
 */
export function saveState(
  dir: string,
  files: readonly FileCheckpoint[],
  now = Date.now(),
  bots?: readonly string[]
): void {
  const currentPath = join(dir, STATE_FILE);
  const tempPath = `${currentPath}.tmp`;
  // An empty list is left out, so the file reads the same as one written before the list.
  const listed = bots !== undefined && bots.length > 0 ? bots : undefined;
  const text = `${JSON.stringify({ version: STATE_VERSION, savedAt: now, files, bots: listed })}\n`;
  try {
    writeFileDurably(tempPath, text);
    keepPreviousCopy(dir, currentPath);
    renameSync(tempPath, currentPath);
    fsyncDirectory(dir);
  } catch (error) {
    try {
      unlinkSync(tempPath);
    } catch {
      // Nothing to clean up when the temp file was never created.
    }
    throw new StateSaveError(currentPath, error);
  }
}

function writeFileDurably(path: string, text: string): void {
  const fd = openSync(path, 'w', 0o640);
  try {
    const buffer = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < buffer.length) written += writeSync(fd, buffer, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes `state.json.prev` the current `state.json`, replacing the old copy in one rename. */
function keepPreviousCopy(dir: string, currentPath: string): void {
  const previousPath = join(dir, PREVIOUS_STATE_FILE);
  const linkPath = `${previousPath}.tmp`;
  try {
    unlinkSync(linkPath);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  try {
    linkSync(currentPath, linkPath);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return; // first save: there is no current file yet
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
    // File systems without hard links get a copy; the rename below still replaces atomically.
    copyFileSync(currentPath, linkPath);
  }
  renameSync(linkPath, previousPath);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
