import { IANAZone } from 'luxon';
import { describeValue } from './key-path.js';

/** Example shown when a `format: text` pattern lacks named groups. */
const TEXT_PATTERN_EXAMPLE = '^(?<time>\\S+) (?<level>\\w+) (?<msg>.*)$';

/**
 * Compiles a regular expression source as the rules do: JavaScript syntax, where a leading
 * `(?i)` stands for the `i` flag. Returns why it is invalid, or undefined when it compiles.
 */
export function regexError(source: string): string | undefined {
  try {
    new RegExp(withoutFlagPrefix(source));
    return undefined;
  } catch (error) {
    // V8 words it `Invalid regular expression: /<source>/<flags>: <reason>`; keep the reason.
    const text = (error as Error).message;
    const reason = text.slice(text.lastIndexOf(': ') + 2);
    return `invalid regular expression ${describeValue(source)}: ${reason}; write a JavaScript regular expression`;
  }
}

function withoutFlagPrefix(source: string): string {
  return source.startsWith('(?i)') ? source.slice(4) : source;
}

/** Returns the number of capture groups and the names of the named ones in a valid source. */
export function captureGroups(source: string): { count: number; names: string[] } {
  // The empty alternative matches '', and a match lists every group of the pattern.
  const match = new RegExp(`(?:${withoutFlagPrefix(source)})|`).exec('') as RegExpExecArray;
  return { count: match.length - 1, names: Object.keys(match.groups ?? {}) };
}

/** Checks a `format: text` pattern: it must compile and name at least one group. */
export function textPatternError(source: string): string | undefined {
  const invalid = regexError(source);
  if (invalid) return invalid;
  if (captureGroups(source).names.length > 0) return undefined;
  return (
    `${describeValue(source)} has no named groups; name each field with ` +
    `(?<name>...), for example '${TEXT_PATTERN_EXAMPLE}'`
  );
}

/** Checks a `userIdPattern`: it must compile and hold a capture group for the id. */
export function userIdPatternError(source: string): string | undefined {
  const invalid = regexError(source);
  if (invalid) return invalid;
  if (captureGroups(source).count > 0) return undefined;
  return (
    `${describeValue(source)} has no capture group; ` +
    "wrap the id in (...) or (?<id>...), for example 'user=(\\d+)'"
  );
}

/** Checks that a zone is a valid IANA name as luxon reads it. */
export function timezoneError(zone: string): string | undefined {
  if (IANAZone.isValidZone(zone)) return undefined;
  return `unknown time zone ${describeValue(zone)}; expected an IANA zone name such as Europe/Moscow or UTC`;
}

/** Checks the tracker URL: absolute http(s), with no `idApp`, which the agent adds itself. */
export function trackerUrlError(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `invalid URL ${describeValue(text)}; expected an absolute http:// or https:// URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `unsupported scheme '${url.protocol}' in ${describeValue(text)}; expected http:// or https://`;
  }
  if (url.searchParams.has('idApp')) {
    return (
      `${describeValue(text)} carries idApp; remove it, because the agent appends ` +
      '?idApp= from tracker.appId'
    );
  }
  return undefined;
}
