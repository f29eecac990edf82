/**
 * `npm run build`: bundles every Lambda entry in lambdas/handlers/ into dist/<function-name>/index.mjs
 * with the same esbuild settings the CDK functions use (lib/function-bundling.ts), and the operator
 * CLI into dist/cli/coder-fleet.mjs (the package's `coder-fleet` bin).
 */
import { chmod, readdir, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { build } from 'esbuild';
import { ESM_REQUIRE_SHIM, HANDLERS_DIR, LAMBDA_NODE_TARGET } from '../lib/common/function-bundling.js';

export const handlerNames = async (root = process.cwd()): Promise<string[]> =>
  (await readdir(path.join(root, HANDLERS_DIR)))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => file.slice(0, -'.ts'.length))
    .sort();

export const bundleHandler = async (name: string, outRoot: string, root = process.cwd()): Promise<string> => {
  const outfile = path.join(outRoot, name, 'index.mjs');
  await build({
    entryPoints: [path.join(root, HANDLERS_DIR, `${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_NODE_TARGET,
    minify: true,
    sourcemap: true,
    banner: { js: ESM_REQUIRE_SHIM },
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
  return outfile;
};

/** The operator CLI's entry, bundled like the handlers into one self-contained, executable ESM file. */
export const CLI_ENTRY = 'bin/coder-fleet.ts';

/** Bundles the CLI (`coder-fleet`, the package's bin) to `<outRoot>/cli/coder-fleet.mjs`. */
export const bundleCli = async (outRoot: string, root = process.cwd()): Promise<string> => {
  const outfile = path.join(outRoot, 'cli', 'coder-fleet.mjs');
  await build({
    entryPoints: [path.join(root, CLI_ENTRY)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_NODE_TARGET,
    minify: true,
    sourcemap: true,
    banner: { js: `#!/usr/bin/env node\n${ESM_REQUIRE_SHIM}` },
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
  await chmod(outfile, 0o755);
  return outfile;
};

const main = async (): Promise<void> => {
  const outRoot = path.resolve('dist');
  await rm(outRoot, { recursive: true, force: true });
  const names = await handlerNames();
  if (names.length === 0) throw new Error(`No handlers found in ${HANDLERS_DIR}/`);
  for (const name of names) {
    const outfile = await bundleHandler(name, outRoot);
    const { size } = await stat(outfile);
    console.log(`${name.padEnd(28)} dist/${name}/index.mjs  ${(size / 1024).toFixed(0)} KiB`);
  }
  const cli = await bundleCli(outRoot);
  console.log(
    `${'coder-fleet (CLI)'.padEnd(28)} ${path.relative(process.cwd(), cli)}  ${((await stat(cli)).size / 1024).toFixed(0)} KiB`,
  );
};

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
