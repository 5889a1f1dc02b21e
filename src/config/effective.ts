import { stringify } from 'yaml';
import type { LoadedConfig } from './load.js';

/** Text shown in place of the token: none of its characters, not even the last few. */
export const MASKED_TOKEN = '****';

/**
 * Renders the effective configuration as YAML: defaults filled in, relative paths resolved,
 * `tokenFile` shown as its path and an inline token replaced by {@link MASKED_TOKEN}.
 */
export function renderEffectiveConfig(loaded: LoadedConfig): string {
  const { config } = loaded;
  const tracker =
    config.tracker.token === undefined
      ? config.tracker
      : { ...config.tracker, token: MASKED_TOKEN };
  const text = stringify({ ...config, tracker }, { lineWidth: 0, singleQuote: true });
  // A token pasted into some other value by mistake must not show either.
  const masked = loaded.token.length >= 4 ? text.split(loaded.token).join(MASKED_TOKEN) : text;
  return `# Effective configuration of ${loaded.path}\n${masked}`;
}
