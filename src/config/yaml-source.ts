import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLError,
} from 'yaml';
import { ConfigError, type ConfigProblem } from './errors.js';
import { formatKeyPath, type KeyPath } from './key-path.js';

/** A parsed configuration file with what is needed to point at any of its nodes. */
export interface YamlSource {
  /** The file as the caller named it, used in messages. */
  file: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

/**
 * A problem before it has a place: the key path it concerns and whether the message is about
 * the key itself (an unknown key) or its value (the default).
 */
export interface ProblemDraft {
  path: KeyPath;
  message: string;
  at?: 'key' | 'value';
}

/** Replacements for parser messages that give advice meant for programmers. */
const SYNTAX_MESSAGES: Record<string, string> = {
  MULTIPLE_DOCS: 'the file holds more than one YAML document; remove the extra `---` separators',
  DUPLICATE_KEY: 'duplicate key; each key may appear only once in a mapping',
};

/**
 * Parses YAML text, keeping the document and line counter so that problems found later can be
 * given a line and column. Raises a {@link ConfigError} for the first syntax error or unknown tag.
 */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  // prettyErrors would append the source line to each message, and that line may contain the token.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const failures = [...doc.errors, ...doc.warnings].sort((a, b) => a.pos[0] - b.pos[0]);
  const first = failures[0];
  if (first === undefined) return { file, doc, lineCounter };
  // After a syntax error the parser often flags every later line; the first error is the cause.
  throw new ConfigError([syntaxProblem(first, file, lineCounter)]);
}

function syntaxProblem(failure: YAMLError, file: string, lineCounter: LineCounter): ConfigProblem {
  const { line, col } = lineCounter.linePos(failure.pos[0]);
  // Messages such as `Unexpected scalar token in YAML stream: "abc"` quote the source, which
  // may be part of the token.
  const message = SYNTAX_MESSAGES[failure.code] ?? failure.message.replace(/: ".*"$/s, '');
  return { file, line, column: col, path: '', message: `invalid YAML: ${message}` };
}

/** Gives a draft the line and column of the node it concerns. */
export function locateProblem(source: YamlSource, draft: ProblemDraft): ConfigProblem {
  const offset = offsetOf(source.doc, draft.path, draft.at ?? 'value');
  const { line, col } = source.lineCounter.linePos(offset);
  return {
    file: source.file,
    line,
    column: col,
    path: formatKeyPath(draft.path),
    message: draft.message,
  };
}

/**
 * Finds the source offset for a key path. When the path ends before its last key (a required
 * key that is missing), the offset is that of the deepest key that exists, so the message
 * points at the mapping that lacks it.
 */
function offsetOf(doc: Document.Parsed, path: KeyPath, at: 'key' | 'value'): number {
  let node: Node | null = doc.contents;
  let keyNode: Node | null = null;
  for (const segment of path) {
    const resolved = resolveAlias(doc, node);
    const step = childOf(resolved, segment);
    if (!step) return startOf(keyNode) ?? startOf(resolved) ?? 0;
    keyNode = step.key;
    node = step.value;
  }
  if (at === 'key') return startOf(keyNode) ?? startOf(node) ?? 0;
  return startOf(node) ?? startOf(keyNode) ?? 0;
}

interface ChildStep {
  key: Node | null;
  value: Node | null;
}

function childOf(node: Node | null, segment: string | number): ChildStep | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      const keyValue = isScalar(key) ? key.value : key;
      if (String(keyValue) === String(segment)) {
        return { key, value: pair.value as Node | null };
      }
    }
    return undefined;
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment] as Node | null | undefined;
    return item === undefined ? undefined : { key: null, value: item };
  }
  return undefined;
}

function resolveAlias(doc: Document.Parsed, node: Node | null): Node | null {
  if (!isAlias(node)) return node;
  return (node.resolve(doc) as Node | undefined) ?? null;
}

function startOf(node: Node | null): number | undefined {
  return node?.range?.[0];
}
