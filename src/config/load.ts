import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { maskSecrets } from '../observability/logger.js';
import { checkCrossFields } from './cross-checks.js';
import { coerceExpandedValues, expandDocument } from './env-expansion.js';
import { ConfigError, type ConfigProblem, sortProblems } from './errors.js';
import { keyPathId, valueAt } from './key-path.js';
import { resolveRelativePaths } from './paths.js';
import { type AgentConfig, configSchema } from './schema.js';
import { issuesToDrafts } from './schema-issues.js';
import { resolveToken } from './token.js';
import {
  locateProblem,
  type ProblemDraft,
  parseYamlSource,
  type YamlSource,
} from './yaml-source.js';

/** A validated configuration with its defaults filled in and its relative paths resolved. */
export interface LoadedConfig {
  config: AgentConfig;
  /** The tracker token, read from `tracker.token` or `tracker.tokenFile`. */
  token: string;
  /** Absolute path of the configuration file. */
  path: string;
}

/**
 * Reads, expands and validates the YAML configuration at `path`. `${NAME}` references are
 * taken from `env`. Raises a {@link ConfigError} that lists every problem found, each with its
 * line and column; nothing in the message reveals the token. With `readToken: false` the token
 * file is not read and `token` is empty, for commands that never talk to the tracker.
 */
export async function loadConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
  options: { readToken?: boolean } = {}
): Promise<LoadedConfig> {
  const absolutePath = resolve(path);
  const source = parseYamlSource(await readConfigText(path, absolutePath), path);
  if (source.doc.contents === null) {
    throw new ConfigError([
      { file: path, line: 1, column: 1, path: '', message: emptyFileMessage() },
    ]);
  }
  const expansion = expandDocument(source.doc, env);
  if (expansion.hasUnresolvedAlias) {
    // Converting the document would fail on the alias, so stop with what is known.
    throw problemsError(source, expansion.drafts, undefined);
  }
  const data: unknown = source.doc.toJS();
  const parsed = parseExpanded(data, expansion.expandedPaths);
  const expansionPaths = new Set(expansion.drafts.map((draft) => keyPathId(draft.path)));
  const schemaDrafts = parsed.success
    ? []
    : issuesToDrafts(parsed.error.issues, data).filter(
        // A value whose reference failed would fail the schema too; report the cause only.
        (draft) => !expansionPaths.has(keyPathId(draft.path))
      );
  const drafts = [...expansion.drafts, ...schemaDrafts, ...checkCrossFields(data, source.doc)];
  const secret = valueAt(data, ['tracker', 'token']);
  if (drafts.length > 0 || !parsed.success) throw problemsError(source, drafts, secret);

  const config = resolveRelativePaths(parsed.data, dirname(absolutePath));
  if (options.readToken === false) return { config, token: '', path: absolutePath };
  const token = await resolveToken(config.tracker);
  if ('draft' in token) throw problemsError(source, [token.draft], secret);
  return { config, token: token.token, path: absolutePath };
}

function parseExpanded(data: unknown, expandedPaths: ReadonlySet<string>) {
  let parsed = configSchema.safeParse(data);
  // Each pass turns at least one string into a number or boolean, so the loop ends.
  while (!parsed.success && coerceExpandedValues(data, parsed.error.issues, expandedPaths)) {
    parsed = configSchema.safeParse(data);
  }
  return parsed;
}

async function readConfigText(path: string, absolutePath: string): Promise<string> {
  try {
    return await readFile(absolutePath, 'utf8');
  } catch (error) {
    const message = readFailure(absolutePath, error as NodeJS.ErrnoException);
    throw new ConfigError([{ file: path, path: '', message }]);
  }
}

function readFailure(absolutePath: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return `config file not found: ${absolutePath} (create it from config.example.yaml)`;
    case 'EISDIR':
      return `config path ${absolutePath} is a directory; name the YAML file in it`;
    case 'EACCES':
    case 'EPERM':
      return `config file ${absolutePath} is not readable by this user (${error.code}); fix its permissions`;
    default:
      return `cannot read config file ${absolutePath} (${error.code ?? error.message})`;
  }
}

function emptyFileMessage(): string {
  return 'the file holds no settings; expected a mapping with tracker and bots (see config.example.yaml)';
}

/**
 * Builds the error for a list of drafts. The token is masked in every message as a second
 * guard, for a token pasted into some other key by mistake.
 */
function problemsError(source: YamlSource, drafts: ProblemDraft[], secret: unknown): ConfigError {
  const secrets = typeof secret === 'string' && secret.length >= 4 ? [secret] : [];
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const draft of drafts) {
    const problem = locateProblem(source, draft);
    problem.message = maskSecrets(problem.message, secrets);
    const id = `${problem.line}:${problem.column}:${problem.path}:${problem.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(problem);
  }
  return new ConfigError(sortProblems(problems));
}
