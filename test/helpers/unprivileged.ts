import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Uid and gid of the conventional unprivileged user `nobody`. */
export const NOBODY = { uid: 65534, gid: 65534 };

const REPOSITORY = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * True when the tests run as root (so they can start a child as `nobody`, to whom file modes
 * apply) and `nobody` can reach this checkout's packages. A checkout inside a private
 * directory, such as a fresh clone under a 0700 temp folder, is out of its reach.
 */
export function canRunAsNobody(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = join(REPOSITORY, 'node_modules', 'chokidar', 'package.json');
  const result = spawnSync(
    process.execPath,
    ['-e', `require('node:fs').accessSync(${JSON.stringify(probe)})`],
    { ...NOBODY, stdio: 'ignore' }
  );
  return result.status === 0;
}
