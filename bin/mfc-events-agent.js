#!/usr/bin/env node
// Entry point of the installed command: runs the compiled CLI from build/.
import { main } from '../build/cli/main.js';

main(process.argv).catch((error) => {
  process.stderr.write(`mfc-events-agent: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
