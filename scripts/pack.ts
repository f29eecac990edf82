/**
 * The package as npm packs it, built in a staging folder so the repository's own dist/ is left
 * alone: the compiled constructs, the Lambda bundles and the CLI (as `npm run build` makes them),
 * plus package.json, README.md and every other file `files` lists. Used by the package test
 * (test/package/installed-app.test.ts) and by the README's figures (scripts/readme-figures.ts), so
 * both measure the same tarball.
 */
import { execFile } from 'node:child_process';
import { cp, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { bundleCli, bundleHandler, compileConstructs, handlerNames } from './bundle.js';

const exec = promisify(execFile);

/** What `npm pack --json` reports for one package. */
export interface PackResult {
  readonly filename: string;
  /** The tarball's size in bytes. */
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
  readonly files: readonly { readonly path: string; readonly size: number }[];
}

/** Builds the package into `stage` and copies in every file it ships that is not built. */
export const stagePackage = async (root: string, stage: string): Promise<void> => {
  const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { files: string[] };
  await Promise.all([
    compileConstructs(root, path.join(stage, 'dist/js')),
    bundleCli(path.join(stage, 'dist'), root),
    ...(await handlerNames(root)).map((name) => bundleHandler(name, path.join(stage, 'dist'), root)),
  ]);
  for (const file of ['package.json', 'README.md', ...manifest.files.filter((f) => !f.startsWith('dist/'))]) {
    await cp(path.join(root, file), path.join(stage, file));
  }
};

/**
 * `npm pack` of a staged package: the tarball goes to `destination`, or nowhere (`--dry-run`) when
 * none is given. Scripts are not run: the stage is already built.
 */
export const npmPack = async (stage: string, destination?: string): Promise<PackResult> => {
  const args = [
    'pack',
    '--ignore-scripts',
    '--json',
    ...(destination ? ['--pack-destination', destination] : ['--dry-run']),
    stage,
  ];
  const { stdout } = await exec('npm', args, {
    cwd: destination ?? stage,
    env: { ...process.env, npm_config_update_notifier: 'false' },
    maxBuffer: 2 ** 26,
  });
  const [result] = JSON.parse(stdout) as PackResult[];
  if (!result) throw new Error(`npm pack reported nothing for ${stage}`);
  return result;
};
