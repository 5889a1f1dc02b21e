import { isAbsolute, join, resolve } from 'node:path';
import { escapePath } from 'tinyglobby';
import type { AgentConfig, BotConfig } from './schema.js';

/**
 * Resolves the relative paths of a configuration against the directory of its file, so the
 * agent reads the same files whatever its working directory. Covers `include`, the `exclude`
 * patterns that hold a `/` (the others match base names anywhere), `state.dir`, `tokenFile`
 * and `caFile`.
 */
export function resolveRelativePaths(config: AgentConfig, baseDir: string): AgentConfig {
  const tracker = { ...config.tracker };
  if (tracker.tokenFile !== undefined) tracker.tokenFile = resolve(baseDir, tracker.tokenFile);
  if (tracker.caFile !== undefined) tracker.caFile = resolve(baseDir, tracker.caFile);
  return {
    ...config,
    tracker,
    state: { ...config.state, dir: resolve(baseDir, config.state.dir) },
    bots: config.bots.map((bot) => resolveBotPatterns(bot, baseDir)),
  };
}

function resolveBotPatterns(bot: BotConfig, baseDir: string): BotConfig {
  // The directory is escaped so that `[`, `*` or `{` in its name match themselves.
  const globBase = escapePath(baseDir);
  const anchor = (pattern: string): string =>
    isAbsolute(pattern) ? pattern : join(globBase, pattern);
  return {
    ...bot,
    include: bot.include.map(anchor),
    exclude: bot.exclude.map((pattern) => (pattern.includes('/') ? anchor(pattern) : pattern)),
  };
}
