/** A location in the configuration tree: map keys and list indexes, outermost first. */
export type KeyPath = readonly (string | number)[];

/** Maximum length of a value shown inside an error message, in characters. */
export const MAX_VALUE_CHARS = 60;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Formats a key path the way errors show it: `bots[0].rules[1].event`. A key that is not a
 * plain identifier, such as the field path `record.message`, is written as `["record.message"]`.
 */
export function formatKeyPath(path: KeyPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      text += `[${segment}]`;
    } else if (IDENTIFIER.test(segment)) {
      text += text === '' ? segment : `.${segment}`;
    } else {
      text += `[${JSON.stringify(segment)}]`;
    }
  }
  return text;
}

/** Returns a map key for a key path, for sets and maps of paths. */
export function keyPathId(path: KeyPath): string {
  return JSON.stringify(path);
}

/**
 * Describes a configuration value for an error message: strings in single quotes and cut to
 * about {@link MAX_VALUE_CHARS} characters, lists and mappings by their kind only.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${truncate(value)}'`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (value === undefined) return 'nothing';
  return truncate(String(value));
}

function truncate(text: string): string {
  const oneLine = text.replace(/\r?\n/g, '\\n');
  if (oneLine.length <= MAX_VALUE_CHARS) return oneLine;
  return `${oneLine.slice(0, MAX_VALUE_CHARS - 3)}...`;
}

/** Returns the value at `path` inside plain parsed data, or undefined when any step is absent. */
export function valueAt(root: unknown, path: KeyPath): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/** Tells whether a key path leads to a secret whose value must never appear in a message. */
export function isSecretPath(path: KeyPath): boolean {
  return path.length >= 2 && path[0] === 'tracker' && path[1] === 'token';
}
