/** One thing wrong with a configuration file, with the place it sits. */
export interface ConfigProblem {
  /** The configuration file as the caller named it. */
  file: string;
  /** 1-based line of the offending node; absent when the problem concerns the whole file. */
  line?: number;
  /** 1-based column of the offending node; absent with `line`. */
  column?: number;
  /** Key path in `bots[0].rules[1].event` style; empty for the document itself. */
  path: string;
  /** Description of the fault and of the expected value; it never contains a secret. */
  message: string;
}

/**
 * Raised when a configuration cannot be used. It carries every problem found, and its message
 * contains one line per problem: `config.yaml:14:16: bots[0].rules[1].event: unknown event type ...`.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** Formats one problem as `file:line:column: path: message`, leaving out the parts it lacks. */
export function formatProblem(problem: ConfigProblem): string {
  const place =
    problem.line === undefined ? '' : `${problem.file}:${problem.line}:${problem.column ?? 1}: `;
  const path = problem.path === '' ? '' : `${problem.path}: `;
  return `${place}${path}${problem.message}`;
}

/** Orders problems by line, then column, so the message reads top to bottom like the file. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort(
    (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)
  );
}
