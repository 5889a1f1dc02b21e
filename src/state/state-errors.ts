import { dirname, join } from 'node:path';
import { errorCode } from '../outbox/file-io.js';

/**
 * Thrown on start when neither `state.json` nor its previous copy is usable. The agent does not
 * start, because without checkpoints it would read every log again from the position `startAt` sets.
 */
export class StateUnreadableError extends Error {
  /**
   * @param currentProblem what is wrong with state.json, or null when it is missing
   * @param previousProblem what is wrong with state.json.prev, or null when it is missing
   */
  constructor(
    readonly dir: string,
    readonly currentProblem: string | null,
    readonly previousProblem: string | null
  ) {
    const current = join(dir, 'state.json');
    const previous = join(dir, 'state.json.prev');
    const moves = [
      ...(currentProblem === null
        ? []
        : [`mv ${shellQuote(current)} ${shellQuote(`${current}.broken`)}`]),
      ...(previousProblem === null
        ? []
        : [`mv ${shellQuote(previous)} ${shellQuote(`${previous}.broken`)}`]),
    ];
    super(
      `state file ${current} ${currentProblem ?? 'is missing'}, and ` +
        (previousProblem === null
          ? `there is no previous copy (${previous}). `
          : `its previous copy ${previous} ${previousProblem}. `) +
        'The agent will not start, because without checkpoints it would read each log from the ' +
        "position its bot's startAt sets, and so skip events or send them twice. To start anyway, " +
        `move the broken files away with \`${moves.join(' && ')}\`, then start the agent. Files ` +
        'are then read from startAt: `end` queues only lines written from then on, `beginning` ' +
        'queues every line again, including events the tracker already has.'
    );
    this.name = 'StateUnreadableError';
  }
}

/** Thrown on start when the state file has a version this agent does not read. */
export class StateVersionError extends Error {
  constructor(
    readonly path: string,
    readonly version: unknown,
    readonly supportedVersion: number
  ) {
    super(
      `state file ${path} has version ${JSON.stringify(version)}, but this agent reads version ` +
        `${supportedVersion} only, so a newer mfc-events-agent probably wrote it. Run that ` +
        'version again, or move the file away to start over from startAt: ' +
        `mv ${shellQuote(path)} ${shellQuote(`${path}.v${String(version)}`)}`
    );
    this.name = 'StateVersionError';
  }
}

/** Returns what to do about a failed save, by error code. */
function saveHint(code: string | undefined, dir: string): string {
  switch (code) {
    case 'ENOSPC':
      return `free space on the file system of ${dir}`;
    case 'EDQUOT':
      return "raise the disk quota of the agent's user";
    case 'EACCES':
    case 'EPERM':
      return `give the agent's user write access to ${dir}`;
    case 'EROFS':
      return `the file system of ${dir} is mounted read-only; remount it read-write`;
    default:
      return `check the directory ${dir}`;
  }
}

/**
 * Thrown when checkpoints cannot be saved. The previous state file stays intact; the caller
 * pauses reading, reports the error and retries.
 */
export class StateSaveError extends Error {
  readonly code: string | undefined;

  constructor(
    readonly path: string,
    cause: unknown
  ) {
    const code = errorCode(cause);
    const reason = cause instanceof Error ? cause.message : String(cause);
    const hint = saveHint(code, dirname(path));
    super(
      `saving checkpoints to ${path} failed: ${reason}. The previous state is intact and the ` +
        `save is retried; ${hint}.`,
      { cause }
    );
    this.name = 'StateSaveError';
    this.code = code;
  }
}

/** Quotes a path for a POSIX shell when it contains characters the shell would interpret. */
function shellQuote(value: string): string {
  return /^[\w./@%+=:,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
