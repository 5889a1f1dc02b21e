/**
 * Compiles a regular expression written in a rule (JavaScript syntax). A leading `(?i)`, common
 * in Go and Python patterns, is turned into the `i` flag. Throws an error naming `where`, the
 * pattern and the fix when the pattern is invalid.
 */
export function compileRegex(pattern: string, where: string): RegExp {
  let source = pattern;
  let flags = '';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags = 'i';
  }
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw new Error(
      `${where}: invalid regular expression /${pattern}/: ${(error as Error).message}; ` +
        'fix the pattern (JavaScript syntax)'
    );
  }
}
