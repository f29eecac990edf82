/**
 * `npm run build`: bundles every Lambda entry in lambdas/handlers/ into dist/<function-name>/
 * (index.mjs plus the lazily loaded chunks), the operator CLI into dist/cli/coder-fleet.mjs (the
 * package's `coder-fleet` bin), and compiles the CDK constructs to dist/js/ with type declarations
 * (the package's export). ControllerFunction deploys dist/<function-name>/ when it exists and
 * otherwise runs `bundleHandler` itself (`npx tsx scripts/bundle.ts --handler <name> --outdir <dir>`),
 * so the bundle that is tested is the bundle that is deployed.
 */
import { execFile } from 'node:child_process';
import { chmod, readdir, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { ESM_REQUIRE_SHIM, HANDLERS_DIR, LAMBDA_NODE_TARGET } from '../lib/common/function-bundling.js';

export const handlerNames = async (root = process.cwd()): Promise<string[]> =>
  (await readdir(path.join(root, HANDLERS_DIR)))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => file.slice(0, -'.ts'.length))
    .sort();

/**
 * zod's classic build imports every locale (about 257 KiB minified) to offer `z.locales`; the
 * controller uses none of them. English, which zod imports on its own, stays.
 */
const zodWithoutLocales: Plugin = {
  name: 'zod-without-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}node_modules${path.sep}zod${path.sep}`)
        ? { path: 'zod-locales', namespace: 'zod-without-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-without-locales' }, () => ({
      contents: 'export {};',
      loader: 'js',
    }));
  },
};

/**
 * One luxon: cron-parser `require`s luxon's CommonJS build while our code imports its ESM build,
 * which put both (70 KiB each) in the scaler's bundle. Every `require('luxon')` resolves to the
 * ESM build instead (esbuild wraps it for `require`).
 */
const oneLuxon: Plugin = {
  name: 'one-luxon',
  setup(b) {
    b.onResolve({ filter: /^luxon$/ }, (args) =>
      args.kind === 'require-call'
        ? b.resolve('luxon', { kind: 'import-statement', resolveDir: args.resolveDir })
        : undefined,
    );
  },
};

/** Settings every bundle shares: ESM for Node 22, minified, the AWS SDK bundled (pinned versions). */
const commonOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: LAMBDA_NODE_TARGET,
  minify: true,
  mainFields: ['module', 'main'],
  logLevel: 'warning',
} as const satisfies BuildOptions;

export interface BundleOptions {
  /**
   * false: the settings of the commit before lean bundles (one file, every dependency as it comes,
   * a source map), kept so `npm run bench` can measure both side by side. @default true
   */
  readonly lean?: boolean;
}

/**
 * Bundles one handler into `<outRoot>/<name>/index.mjs` and returns that path. Lean (the default):
 * code splitting, so what is imported only on demand (the X-Ray tracer when tracing is on, the
 * AWS SDK's SSO/INI/process credential providers, which a Lambda with credentials in its
 * environment never reaches) sits in `chunks/` and is not loaded at cold start; no zod locales;
 * one luxon; no source map.
 */
export const bundleHandler = async (
  name: string,
  outRoot: string,
  root = process.cwd(),
  options: BundleOptions = {},
): Promise<string> => bundleHandlerInto(name, path.join(outRoot, name), root, options);

/** bundleHandler into exactly `outdir` (CDK's bundling output folder for the fallback). */
export const bundleHandlerInto = async (
  name: string,
  outdir: string,
  root = process.cwd(),
  options: BundleOptions = {},
): Promise<string> => {
  const entry = path.join(root, HANDLERS_DIR, `${name}.ts`);
  if (options.lean === false) {
    await build({
      ...commonOptions,
      entryPoints: [entry],
      outfile: path.join(outdir, 'index.mjs'),
      sourcemap: true,
      banner: { js: ESM_REQUIRE_SHIM },
    });
  } else {
    await build({
      ...commonOptions,
      entryPoints: { index: entry },
      outdir,
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      outExtension: { '.js': '.mjs' },
      banner: { js: ESM_REQUIRE_SHIM },
      plugins: [zodWithoutLocales, oneLuxon],
    });
  }
  return path.join(outdir, 'index.mjs');
};

/** Every `.mjs` file of a bundle folder with its size: index.mjs and its chunks. */
export const bundleFiles = async (bundleDir: string): Promise<{ file: string; bytes: number }[]> => {
  const entries = await readdir(bundleDir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith('.mjs'))
    .map((e) => path.join(e.parentPath, e.name));
  return Promise.all(files.map(async (file) => ({ file, bytes: (await stat(file)).size })));
};

/** The operator CLI's entry, bundled like the handlers into one self-contained, executable ESM file. */
export const CLI_ENTRY = 'bin/coder-fleet.ts';

/** Bundles the CLI (`coder-fleet`, the package's bin) to `<outRoot>/cli/coder-fleet.mjs`. */
export const bundleCli = async (outRoot: string, root = process.cwd()): Promise<string> => {
  const outfile = path.join(outRoot, 'cli', 'coder-fleet.mjs');
  await build({
    ...commonOptions,
    entryPoints: [path.join(root, CLI_ENTRY)],
    outfile,
    banner: { js: `#!/usr/bin/env node\n${ESM_REQUIRE_SHIM}` },
    plugins: [zodWithoutLocales, oneLuxon],
  });
  await chmod(outfile, 0o755);
  return outfile;
};

/** The constructs as JavaScript with type declarations in `<outRoot>/js/` (tsconfig.build.json). */
export const compileConstructs = async (
  root = process.cwd(),
  outDir = path.join(root, 'dist/js'),
): Promise<void> => {
  await execFileAsync(
    process.execPath,
    [
      path.join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      path.join(root, 'tsconfig.build.json'),
      '--outDir',
      outDir,
    ],
    { cwd: root },
  );
};

const execFileAsync = promisify(execFile);

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

const main = async (argv: readonly string[]): Promise<void> => {
  const only = argv.indexOf('--handler');
  if (only >= 0) {
    // ControllerFunction's fallback inside this repository: one handler into --outdir.
    const name = argv[only + 1];
    const outdir = argv[argv.indexOf('--outdir') + 1];
    if (!name || !outdir || !argv.includes('--outdir')) throw new Error('usage: --handler NAME --outdir DIR');
    await bundleHandlerInto(name, path.resolve(outdir));
    return;
  }
  const outRoot = path.resolve('dist');
  await rm(outRoot, { recursive: true, force: true });
  const names = await handlerNames();
  if (names.length === 0) throw new Error(`No handlers found in ${HANDLERS_DIR}/`);
  for (const name of names) {
    const index = await bundleHandler(name, outRoot);
    const files = await bundleFiles(path.dirname(index));
    const lazy = files.filter((f) => f.file !== index).reduce((sum, f) => sum + f.bytes, 0);
    const cold = files.find((f) => f.file === index)?.bytes ?? 0;
    console.log(`${name.padEnd(28)} dist/${name}/index.mjs  ${kib(cold)} (+ ${kib(lazy)} loaded on demand)`);
  }
  const cli = await bundleCli(outRoot);
  console.log(
    `${'coder-fleet (CLI)'.padEnd(28)} ${path.relative(process.cwd(), cli)}  ${kib((await stat(cli)).size)}`,
  );
  await compileConstructs();
  console.log(`${'constructs'.padEnd(28)} dist/js/lib/index.js (+ .d.ts)`);
};

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
