import { statSync } from 'node:fs';

/**
 * Rejects writing a state directory as root when another user owns it. Files root creates there
 * (a spool file, a new state.json) would be unreadable for the service user, which then cannot
 * start. Returns quietly when the directory does not exist yet or root owns it.
 */
export function assertStateDirOwner(stateDir: string, command: string): void {
  if (process.getuid?.() !== 0) return;
  let owner: number;
  try {
    owner = statSync(stateDir).uid;
  } catch {
    return;
  }
  if (owner === 0) return;
  throw new Error(
    `state directory ${stateDir} belongs to uid ${owner}, and running ${command} as root would leave files that user cannot read; run it as the owner instead, for example: sudo -u mfc-events-agent mfc-events-agent ${command} ...`
  );
}
