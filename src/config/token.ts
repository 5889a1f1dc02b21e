import { readFile } from 'node:fs/promises';
import type { TrackerConfig } from './schema.js';
import type { ProblemDraft } from './yaml-source.js';

/** Control characters, which cannot go into an `Authorization` header. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** The token, or a problem that never quotes it. */
export type TokenResult = { token: string } | { draft: ProblemDraft };

/**
 * Returns the tracker token from `tracker.token` or from the file named by `tracker.tokenFile`
 * (already an absolute path), with surrounding whitespace such as the final newline trimmed.
 * The schema and the cross-field checks have ensured that exactly one of the two is set.
 */
export async function resolveToken(tracker: TrackerConfig): Promise<TokenResult> {
  if (tracker.token !== undefined) {
    return checkToken(tracker.token, ['tracker', 'token'], 'the token');
  }
  const file = tracker.tokenFile as string;
  const path = ['tracker', 'tokenFile'];
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { draft: { path, message: readFailure(file, error as NodeJS.ErrnoException) } };
  }
  const token = text.trim();
  if (token === '') {
    return { draft: { path, message: `token file ${file} is empty; write the token into it` } };
  }
  return checkToken(token, path, `the token in ${file}`);
}

function checkToken(token: string, path: string[], subject: string): TokenResult {
  if (!CONTROL_CHARACTER.test(token)) return { token };
  return {
    draft: {
      path,
      message: `${subject} contains a line break or another control character; remove it`,
    },
  };
}

function readFailure(file: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return `token file not found: ${file}; create it or fix the path`;
    case 'EACCES':
    case 'EPERM':
      return `token file ${file} is not readable by this user (${error.code}); fix its permissions`;
    case 'EISDIR':
      return `token file ${file} is a directory; name the file that holds the token`;
    default:
      return `cannot read token file ${file} (${error.code ?? error.message})`;
  }
}
