#!/usr/bin/env node
// Bundles the CLI into one CommonJS file that runs with plain `node` (>= 20.19) and no
// node_modules, for offline servers, the .deb and container images.
//
// Usage: node packaging/bundle.mjs [--outfile PATH]   (default: dist/mfc-events-agent.cjs)

import { chmodSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Default output path, relative to the repository root. */
export const DEFAULT_OUTFILE = join(ROOT, 'dist', 'mfc-events-agent.cjs');

// The entry sets the V8 heap flags before the CLI's modules load, as bin/mfc-events-agent.js
// does, and then calls main() the way that file does, so both report errors alike. main.ts is
// imported dynamically so that its modules load only after the flags are set.
const ENTRY = `
import { applyHeapFlags } from './src/cli/heap-flags.ts';

applyHeapFlags();
import('./src/cli/main.ts')
  .then(({ main }) => main(process.argv))
  .catch((error) => {
    process.stderr.write(\`mfc-events-agent: \${error instanceof Error ? error.message : String(error)}\\n\`);
    process.exit(1);
  });
`;

// CommonJS has no import.meta, and ESM-only packages (chokidar 5 through fdir, for one) call
// createRequire(import.meta.url). The banner defines the module's own URL once for all of them.
const IMPORT_META_SHIM = [
  '#!/usr/bin/env node',
  'var __bundleImportMetaUrl = require("node:url").pathToFileURL(__filename).href;',
].join('\n');

/**
 * Builds the bundle at `outfile` and makes it executable. Resolves to its size in bytes; rejects
 * with esbuild's errors when a module cannot be resolved.
 */
export async function bundleCli(outfile = DEFAULT_OUTFILE) {
  await build({
    stdin: { contents: ENTRY, resolveDir: ROOT, sourcefile: 'bundle-entry.ts', loader: 'ts' },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: IMPORT_META_SHIM },
    define: {
      // Modules that load a package on first use call require() when this is set, so esbuild
      // finds the call and puts the package into the bundle.
      MFC_COMMONJS_BUNDLE: 'true',
      // The bundle checks its configuration on the main thread (src/config/load-in-worker.ts).
      MFC_SINGLE_FILE_BUNDLE: 'true',
      'import.meta.url': '__bundleImportMetaUrl',
      'import.meta.dirname': '__dirname',
      'import.meta.filename': '__filename',
    },
    // License comments of the bundled packages are kept, gathered at the end of the file.
    legalComments: 'eof',
    logLevel: 'warning',
  });
  chmodSync(outfile, 0o755);
  return statSync(outfile).size;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const { values } = parseArgs({ options: { outfile: { type: 'string' } } });
  const outfile = resolve(values.outfile ?? DEFAULT_OUTFILE);
  try {
    const bytes = await bundleCli(outfile);
    process.stdout.write(
      `Bundled ${relative(process.cwd(), outfile) || outfile} (${bytes} bytes).\n`
    );
  } catch (error) {
    process.stderr.write(
      `bundle failed: ${error instanceof Error ? error.message : String(error)}\n`
    );
    process.exit(1);
  }
}
