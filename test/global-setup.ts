import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Bundle of the CLI that tests run as a real child process, rebuilt from src/ on every run. */
export const CLI_BUNDLE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'build-test',
  'cli.mjs'
);

export default async function setup(): Promise<void> {
  mkdirSync(dirname(CLI_BUNDLE), { recursive: true });
  // Packages stay external so the bundle loads them from node_modules like the compiled CLI does.
  // A failed bundle is reported but does not stop the unit tests; the process tests then fail on it.
  await build({
    entryPoints: [join(dirname(CLI_BUNDLE), '..', 'test', 'helpers', 'cli-entry.ts')],
    outfile: CLI_BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    // A one-file bundle checks its configuration on the main thread, as the packaged one does.
    define: { MFC_SINGLE_FILE_BUNDLE: 'true' },
    logLevel: 'warning',
  }).catch((error: unknown) => {
    rmSync(CLI_BUNDLE, { force: true });
    process.stderr.write(`global setup: bundling the CLI failed: ${String(error)}\n`);
  });
}
