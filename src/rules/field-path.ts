/**
 * A compiled field path: the keys and array indexes that lead from a record's root to one value.
 * Segments are strings; a segment of digits also selects an array item when the value is an array.
 */
export interface FieldPath {
  /** The path as written in the config, for messages. */
  readonly source: string;
  readonly segments: readonly string[];
}

/**
 * Compiles a dotted field path. `a.b.0.c` reaches array items, and a key that contains dots or
 * brackets is written in brackets with double or single quotes: `a["x.y"].b` or `a['x.y'].b`.
 * Throws an error naming the path and the fix when the syntax is invalid.
 */
export function compileFieldPath(source: string): FieldPath {
  const segments: string[] = [];
  let index = 0;
  let expectSegment = true;
  while (index < source.length) {
    const char = source[index];
    if (char === '[') {
      const quote = source[index + 1];
      if (quote !== '"' && quote !== "'")
        throw pathError(source, 'a "[" must be followed by a quote');
      const close = source.indexOf(`${quote}]`, index + 2);
      if (close < 0) throw pathError(source, `missing closing ${quote}]`);
      segments.push(source.slice(index + 2, close));
      index = close + 2;
      expectSegment = false;
      continue;
    }
    if (char === '.') {
      if (expectSegment) throw pathError(source, 'empty segment between dots');
      index++;
      expectSegment = true;
      if (index >= source.length) throw pathError(source, 'the path ends with a dot');
      continue;
    }
    if (!expectSegment) throw pathError(source, 'a bracketed key must be followed by "." or "["');
    let stop = index;
    while (stop < source.length && source[stop] !== '.' && source[stop] !== '[') stop++;
    segments.push(source.slice(index, stop));
    index = stop;
    expectSegment = false;
  }
  if (segments.length === 0) throw pathError(source, 'the path is empty');
  return { source, segments };
}

function pathError(source: string, problem: string): Error {
  return new Error(
    `invalid field path '${source}': ${problem}; write keys separated by dots, ` +
      `array indexes as numbers (items.0.id) and keys with dots as ["x.y"]`
  );
}

/** Returns the value at `path` in `root`, or undefined when any step is missing. */
export function getAtPath(root: unknown, path: FieldPath): unknown {
  let value = root;
  const segments = path.segments;
  for (let index = 0; index < segments.length; index++) {
    if (value === null || typeof value !== 'object') return undefined;
    const segment = segments[index]!;
    if (Array.isArray(value)) {
      if (!isArrayIndex(segment)) return undefined;
      value = value[Number(segment)];
    } else {
      if (!Object.hasOwn(value, segment)) return undefined;
      value = (value as Record<string, unknown>)[segment];
    }
  }
  return value;
}

/**
 * Returns a copy of `root` with `replacement` at `path`, copying only the objects and arrays on
 * the way so the original record stays unchanged. Returns `root` when the path does not exist.
 */
export function setAtPath(root: unknown, path: FieldPath, replacement: unknown): unknown {
  return setFrom(root, path.segments, 0, replacement);
}

function setFrom(
  value: unknown,
  segments: readonly string[],
  depth: number,
  replacement: unknown
): unknown {
  if (depth === segments.length) return replacement;
  if (value === null || typeof value !== 'object') return value;
  const segment = segments[depth]!;
  if (Array.isArray(value)) {
    if (!isArrayIndex(segment) || Number(segment) >= value.length) return value;
    const copy = value.slice();
    copy[Number(segment)] = setFrom(value[Number(segment)], segments, depth + 1, replacement);
    return copy;
  }
  if (!Object.hasOwn(value, segment)) return value;
  const record = value as Record<string, unknown>;
  return { ...record, [segment]: setFrom(record[segment], segments, depth + 1, replacement) };
}

function isArrayIndex(segment: string): boolean {
  return /^(0|[1-9]\d*)$/.test(segment);
}
