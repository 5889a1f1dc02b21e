import { main } from '../../src/cli/main.js';

main(process.argv).catch((error: unknown) => {
  process.stderr.write(
    `mfc-events-agent: ${error instanceof Error ? error.message : String(error)}\n`
  );
  process.exit(1);
});
