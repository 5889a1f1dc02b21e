import { statSync } from 'node:fs';
import type { LoadedConfig } from './load.js';

/**
 * Returns a warning for each file holding the token that other users can read: the token file,
 * or the configuration file itself when the token is written inline. The agent still starts;
 * the warning names the file and the command that fixes it.
 */
export function checkSecretPermissions(loaded: LoadedConfig): string[] {
  const warnings: string[] = [];
  const { tokenFile, token } = loaded.config.tracker;
  if (tokenFile !== undefined && isReadableByOthers(tokenFile)) {
    warnings.push(
      `token file ${tokenFile} is readable by other users; restrict it: chmod 640 ${tokenFile}`
    );
  }
  if (token !== undefined && isReadableByOthers(loaded.path)) {
    warnings.push(
      `${loaded.path} holds the token inline and is readable by other users; move the token to tracker.tokenFile (mode 640), or chmod 640 ${loaded.path}`
    );
  }
  return warnings;
}

function isReadableByOthers(path: string): boolean {
  try {
    return (statSync(path).mode & 0o004) !== 0;
  } catch {
    // A file that cannot be inspected was reported by loading already.
    return false;
  }
}
