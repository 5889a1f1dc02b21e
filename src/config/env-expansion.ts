// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the configuration syntax that this module expands, not a template.
import { type Document, isAlias, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { z } from 'zod';
import { type KeyPath, keyPathId, valueAt } from './key-path.js';
import type { ProblemDraft } from './yaml-source.js';

/** Outcome of expanding a document: problems, and the unquoted values that came from variables. */
export interface ExpansionResult {
  drafts: ProblemDraft[];
  /**
   * Key path ids (see `keyPathId`) of unquoted scalars that held a reference. Their text may be
   * read as a number or boolean where the schema expects one, as if written so in the file.
   */
  expandedPaths: Set<string>;
  /** An alias names no anchor, so the document cannot be converted to data. */
  hasUnresolvedAlias: boolean;
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * Expands `${NAME}` and `${NAME:-default}` in one string from `env`; `$${` stays a literal `${`.
 * The default applies when the variable is unset or empty, as in POSIX shells. Returns the
 * expanded text, or an error message that names the variable and never quotes other text.
 */
export function expandString(
  text: string,
  env: NodeJS.ProcessEnv
): { value: string } | { error: string } {
  let output = '';
  let index = 0;
  while (index < text.length) {
    if (text.startsWith('$${', index)) {
      output += '${';
      index += 3;
      continue;
    }
    if (!text.startsWith('${', index)) {
      output += text[index];
      index += 1;
      continue;
    }
    const close = text.indexOf('}', index + 2);
    if (close === -1) {
      return { error: 'unterminated ${ (add the closing } or write $${ for a literal ${)' };
    }
    const resolved = resolveReference(text.slice(index + 2, close), env);
    if ('error' in resolved) return resolved;
    output += resolved.value;
    index = close + 1;
  }
  return { value: output };
}

function resolveReference(
  body: string,
  env: NodeJS.ProcessEnv
): { value: string } | { error: string } {
  const match = REFERENCE.exec(body);
  if (!match) {
    return {
      error:
        'invalid variable reference; write ${NAME} or ${NAME:-default}, where NAME holds ' +
        'letters, digits and _ and does not start with a digit (write $${ for a literal ${)',
    };
  }
  const name = match[1] as string;
  const fallback = match[2];
  if (fallback?.includes('${')) {
    return {
      error: `the default of \${${name}} holds another reference; nesting is not supported`,
    };
  }
  const value = env[name];
  if (fallback !== undefined && (value === undefined || value === '')) return { value: fallback };
  if (value === undefined) {
    return {
      error: `environment variable ${name} is not set; set it or give a default: \${${name}:-value}`,
    };
  }
  return { value };
}

/**
 * Expands references in every string value of the document in place. Keys are left alone
 * because they are field paths and option names, never settings. Aliases share their anchor's
 * node, so each anchored value is expanded once.
 */
export function expandDocument(doc: Document.Parsed, env: NodeJS.ProcessEnv): ExpansionResult {
  const result: ExpansionResult = {
    drafts: [],
    expandedPaths: new Set(),
    hasUnresolvedAlias: false,
  };
  expandNode(doc, doc.contents, [], env, result);
  return result;
}

function expandNode(
  doc: Document.Parsed,
  node: Node | null,
  path: KeyPath,
  env: NodeJS.ProcessEnv,
  result: ExpansionResult
): void {
  if (isAlias(node)) {
    if (node.resolve(doc) === undefined) {
      result.hasUnresolvedAlias = true;
      result.drafts.push({
        path,
        message: `unknown alias *${node.source}; define the anchor &${node.source} before it`,
      });
    }
  } else if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      expandNode(doc, pair.value as Node | null, [...path, key], env, result);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      expandNode(doc, item as Node | null, [...path, index], env, result);
    });
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
    const expanded = expandString(node.value, env);
    if ('error' in expanded) {
      result.drafts.push({ path, message: expanded.error });
      return;
    }
    node.value = expanded.value;
    if (node.type === 'PLAIN') result.expandedPaths.add(keyPathId(path));
  }
}

const NUMBER_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;

/**
 * Reads expanded unquoted values as numbers or booleans where the schema rejected them for
 * being strings, so `timeoutMs: ${TIMEOUT_MS:-10000}` works. Changes `data` in place and
 * returns whether it changed anything, in which case the caller parses again.
 */
export function coerceExpandedValues(
  data: unknown,
  issues: readonly z.core.$ZodIssue[],
  expandedPaths: ReadonlySet<string>
): boolean {
  let changed = false;
  for (const issue of issues) {
    if (issue.code !== 'invalid_type') continue;
    const path = issue.path.map((segment) =>
      typeof segment === 'number' ? segment : String(segment)
    );
    if (!expandedPaths.has(keyPathId(path)) || path.length === 0) continue;
    const parent = valueAt(data, path.slice(0, -1));
    const key = path[path.length - 1] as string | number;
    if (parent === null || typeof parent !== 'object') continue;
    const container = parent as Record<string | number, unknown>;
    const text = container[key];
    if (typeof text !== 'string') continue;
    const coerced = coerceText(text, issue.expected);
    if (coerced === undefined) continue;
    container[key] = coerced;
    changed = true;
  }
  return changed;
}

function coerceText(text: string, expected: string): number | boolean | undefined {
  if ((expected === 'number' || expected === 'int') && NUMBER_TEXT.test(text)) return Number(text);
  if (expected === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return undefined;
}
