import { accessSync, constants, existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import type { BotConfig } from '../config/schema.js';
import { absolutePattern, compilePathMatcher, watchTargetOf } from './patterns.js';
import { scanFiles } from './scanner.js';

/** A reason why a bot may read nothing, found before the agent starts following files. */
export interface AccessProblem {
  bot: string;
  /** `error` means files exist that cannot be read; `warning` that nothing matches yet. */
  severity: 'error' | 'warning';
  path: string;
  message: string;
}

/**
 * Checks that each bot's log directories exist and are readable by this process, and that its
 * globs match at least one readable file. Reads nothing but directory listings and permissions.
 */
export async function checkLogAccess(bots: readonly BotConfig[]): Promise<AccessProblem[]> {
  const problems: AccessProblem[] = [];
  const user = currentUser();
  for (const bot of bots) {
    for (const pattern of bot.include) {
      const base = watchTargetOf(absolutePattern(pattern)).base;
      const missing = firstMissingDirectory(base);
      if (missing !== null) {
        problems.push({
          bot: bot.name,
          severity: 'warning',
          path: missing,
          message: `log directory ${missing} does not exist yet; files matching ${pattern} are picked up when it appears (check bots[].include if that is a typo)`,
        });
        continue;
      }
      if (!canRead(base, constants.R_OK | constants.X_OK)) {
        problems.push({
          bot: bot.name,
          severity: 'error',
          path: base,
          message: `log directory ${base} is not readable by user ${user}: give that user read access (for systemd, SupplementaryGroups= with the group that owns the logs) or fix bots[].include`,
        });
      }
    }

    const matcher = compilePathMatcher(bot.include, bot.exclude);
    const files = await scanFiles(bot.include.map(absolutePattern), (path) =>
      matcher.matches(path)
    );
    const unreadable = files.filter((path) => !canRead(path, constants.R_OK));
    for (const path of unreadable.slice(0, 5)) {
      problems.push({
        bot: bot.name,
        severity: 'error',
        path,
        message: `log file ${path} is not readable by user ${user}: give that user read access (for systemd, SupplementaryGroups= with the file's group)`,
      });
    }
    const readable = files.length - unreadable.length;
    if (files.length === 0 && !problems.some((problem) => problem.bot === bot.name)) {
      problems.push({
        bot: bot.name,
        severity: 'warning',
        path: bot.include.join(', '),
        message: `no file matches ${bot.include.join(', ')} yet; the agent follows files as they appear (check bots[].include if that is a typo)`,
      });
    } else if (readable === 0 && unreadable.length > 5) {
      problems.push({
        bot: bot.name,
        severity: 'error',
        path: dirname(unreadable[0]!),
        message: `${unreadable.length - 5} more unreadable log files`,
      });
    }
  }
  return problems;
}

function canRead(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** Returns the highest directory on the way to `dir` that does not exist, or null. */
function firstMissingDirectory(dir: string): string | null {
  if (existsSync(dir)) return null;
  let missing = dir;
  while (!existsSync(dirname(missing)) && dirname(missing) !== missing) missing = dirname(missing);
  return missing;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}
