import { glob } from 'tinyglobby';

/**
 * Lists the regular files (and symlinks to them) that the absolute globs match and `keep`
 * accepts. A directory that does not exist yields nothing rather than an error.
 */
export async function scanFiles(
  patterns: readonly string[],
  keep: (path: string) => boolean
): Promise<string[]> {
  if (patterns.length === 0) return [];
  const found = await glob([...patterns], {
    absolute: true,
    onlyFiles: true,
    dot: true,
    followSymbolicLinks: true,
    expandDirectories: false,
  });
  return found.filter(keep).sort();
}
