import { basename, dirname, isAbsolute, resolve } from 'node:path';
import picomatch from 'picomatch';

/** Suffix of compressed rotated generations; such files are never followed as text. */
export const COMPRESSED_SUFFIX = '.gz';

/** Tells whether a path is one of a bot's files, from its `include` and `exclude` globs. */
export interface PathMatcher {
  /** True when `path` matches an include glob and no exclude glob. */
  matches(path: string): boolean;
  /**
   * True when `path` is a `.gz` generation of the bot's files: it matches an include glob with
   * `*.gz` appended, and the path without `.gz` matches no exclude glob.
   */
  matchesCompressed(path: string): boolean;
}

/** The directory chokidar watches for one include glob, and how deep below it. */
export interface WatchTarget {
  pattern: string;
  /** Static directory prefix of the glob, unescaped (a real directory name). */
  base: string;
  /** chokidar depth below `base`: 0 watches direct children; undefined is unlimited (`**`). */
  depth: number | undefined;
}

/** Anchors a relative glob at the working directory; config loading normally did it already. */
export function absolutePattern(pattern: string): string {
  return isAbsolute(pattern) ? pattern : resolve(pattern);
}

/** Glob of the compressed generations of files matching `pattern` (for example `app.log*.gz`). */
export function compressedPattern(pattern: string): string {
  return `${pattern}*${COMPRESSED_SUFFIX}`;
}

/** True when the path names a compressed generation. */
export function isCompressedPath(path: string): boolean {
  return path.endsWith(COMPRESSED_SUFFIX);
}

/**
 * Compiles a bot's globs. An exclude glob without `/` matches the base name anywhere (so `*.gz`
 * drops every compressed file); one with `/` matches the whole path.
 */
export function compilePathMatcher(
  include: readonly string[],
  exclude: readonly string[]
): PathMatcher {
  const options = { dot: true };
  const included = picomatch(include.map(absolutePattern), options);
  const includedCompressed = picomatch(
    include.map(absolutePattern).map(compressedPattern),
    options
  );
  const byBasename = exclude.filter((pattern) => !pattern.includes('/'));
  const byPath = exclude.filter((pattern) => pattern.includes('/')).map(absolutePattern);
  const excludedBasename = byBasename.length > 0 ? picomatch(byBasename, options) : () => false;
  const excludedPath = byPath.length > 0 ? picomatch(byPath, options) : () => false;
  const excluded = (path: string): boolean =>
    excludedPath(path) || excludedBasename(basename(path));

  return {
    matches: (path) => included(path) && !excluded(path),
    matchesCompressed: (path) =>
      isCompressedPath(path) &&
      includedCompressed(path) &&
      !excluded(path.slice(0, -COMPRESSED_SUFFIX.length)),
  };
}

/**
 * Computes where to watch for one include glob: chokidar 5 takes no globs, so the static base
 * directory is watched with a depth that covers the glob's directory levels.
 */
export function watchTargetOf(pattern: string): WatchTarget {
  const absolute = absolutePattern(pattern);
  const scan = picomatch.scan(absolute, { unescape: true });
  if (!scan.isGlob) return { pattern: absolute, base: dirname(scan.base), depth: 0 };
  const segments = scan.glob.split('/').filter((segment) => segment.length > 0);
  const unlimited = segments.some((segment) => segment.includes('**'));
  return {
    pattern: absolute,
    base: scan.base === '' ? '/' : scan.base,
    depth: unlimited ? undefined : Math.max(0, segments.length - 1),
  };
}
