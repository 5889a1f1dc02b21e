import { isLosslessNumber, parse } from 'lossless-json';
import { type FieldPath, getAtPath, setAtPath } from '../rules/field-path.js';

/**
 * Re-reads `jsonText` keeping numbers as their JSON text and returns the text of the number at
 * `path`, or undefined when there is none. `parsePaths` are the string fields the rule parses
 * as JSON, parsed the same way. Used only for numbers that are not safe integers, because
 * `JSON.parse` rounds them to the nearest double.
 */
export function readExactNumberText(
  jsonText: string,
  parsePaths: readonly FieldPath[],
  path: FieldPath
): string | undefined {
  let root: unknown;
  try {
    root = parse(jsonText);
    for (const parsePath of parsePaths) {
      const nested = getAtPath(root, parsePath);
      if (typeof nested !== 'string') continue;
      try {
        root = setAtPath(root, parsePath, parse(nested));
      } catch {
        // The fast parse also left this field a string; the path then finds no number.
      }
    }
  } catch {
    // lossless-json also rejects duplicate keys with different values, which JSON.parse takes.
    return undefined;
  }
  const value = getAtPath(root, path);
  return isLosslessNumber(value) ? value.value : undefined;
}
