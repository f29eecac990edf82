/**
 * `npm run readme-figures`: the figures README.md states about the package and the repository,
 * computed, so they cannot go stale. Each sits in a marked region,
 * `<!-- figures:NAME -->…<!-- /figures:NAME -->` (invisible once rendered), which this script
 * rewrites: the tarball's size, unpacked size and file count (from `npm pack --dry-run --json` of
 * a fresh build, scripts/pack.ts), the number of Lambda bundles, and the number of test files.
 *
 * `npm run readme-figures -- --check` writes nothing and fails when a region differs. The tests
 * check the same: test/scripts/readme-figures.test.ts the repository's counts, and the package test
 * the tarball's figures, from the tarball it packs.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { handlerNames } from './bundle.js';
import { npmPack, type PackResult, stagePackage } from './pack.js';

/** Figures of the repository itself: cheap to count, no build needed. */
export interface RepositoryFigures {
  /** Lambda bundles the package ships: one per file in lambdas/handlers/. */
  readonly bundles: number;
  /** Test files `npm test` runs (test/**\/*.test.ts). */
  readonly testFiles: number;
}

export type PackFigures = Pick<PackResult, 'size' | 'unpackedSize' | 'entryCount'>;

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

/** Each region's text, from the figures it states. */
export const REGIONS = {
  package: (p: PackFigures) =>
    `the \`npm pack\` tarball is **${mib(p.size)} MiB** (${mib(p.unpackedSize)} MiB unpacked, ${p.entryCount} files`,
  bundles: (r: RepositoryFigures) => `the ${r.bundles} Lambda bundles`,
  tests: (r: RepositoryFigures) => `${r.testFiles} test files`,
} as const;
export type RegionName = keyof typeof REGIONS;

const REPOSITORY_REGIONS = ['bundles', 'tests'] as const satisfies readonly RegionName[];
const PACKAGE_REGIONS = ['package'] as const satisfies readonly RegionName[];

const marker = (name: string) =>
  new RegExp(`(<!-- figures:${name} -->)([\\s\\S]*?)(<!-- /figures:${name} -->)`, 'g');

export class ReadmeRegionError extends Error {
  override readonly name = 'ReadmeRegionError';
}

/** The text of every occurrence of region `name` (a region may appear more than once). */
export const regionTexts = (readme: string, name: RegionName): string[] =>
  [...readme.matchAll(marker(name))].map((m) => m[2] ?? '');

/** `readme` with every occurrence of region `name` holding `text`; throws when the README has none. */
export const withRegion = (readme: string, name: RegionName, text: string): string => {
  if (regionTexts(readme, name).length === 0) {
    throw new ReadmeRegionError(
      `README.md has no <!-- figures:${name} --> … <!-- /figures:${name} --> region`,
    );
  }
  return readme.replace(
    marker(name),
    (_, open: string, __: string, close: string) => `${open}${text}${close}`,
  );
};

/** The regions whose text differs from what the figures say, as `name: "README" ≠ "computed"`. */
export const staleRegions = (
  readme: string,
  figures: { readonly repository?: RepositoryFigures; readonly pack?: PackFigures },
): string[] => {
  const expected: [RegionName, string][] = [
    ...(figures.repository
      ? REPOSITORY_REGIONS.map((n): [RegionName, string] => [
          n,
          REGIONS[n](figures.repository as RepositoryFigures),
        ])
      : []),
    ...(figures.pack
      ? PACKAGE_REGIONS.map((n): [RegionName, string] => [n, REGIONS[n](figures.pack as PackFigures)])
      : []),
  ];
  return expected.flatMap(([name, text]) => {
    const found = regionTexts(readme, name);
    if (found.length === 0) return [`${name}: no region in README.md`];
    return found.filter((t) => t !== text).map((t) => `${name}: README says "${t}", computed "${text}"`);
  });
};

export const repositoryFigures = async (root = process.cwd()): Promise<RepositoryFigures> => {
  const tests = (await readdir(path.join(root, 'test'), { recursive: true })).filter((f) =>
    f.endsWith('.test.ts'),
  );
  return { bundles: (await handlerNames(root)).length, testFiles: tests.length };
};

/** Builds and packs the package as it stands (README included) and reports the tarball's figures. */
export const packFigures = async (root = process.cwd()): Promise<PackFigures> => {
  const work = await mkdtemp(path.join(tmpdir(), 'cfc-figures-'));
  try {
    const stage = path.join(work, 'stage');
    await stagePackage(root, stage);
    return await npmPack(stage);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
};

const main = async (argv: readonly string[]): Promise<void> => {
  const file = path.resolve('README.md');
  const check = argv.includes('--check');
  const repository = await repositoryFigures();
  // The README is in the tarball: writing new figures can change its size. Repeat until stable.
  for (let pass = 1; pass <= 3; pass += 1) {
    const readme = await readFile(file, 'utf8');
    const pack = await packFigures();
    const stale = staleRegions(readme, { repository, pack });
    if (stale.length === 0) {
      console.log(
        `README.md figures are current: ${REGIONS.package(pack)}), ${REGIONS.bundles(repository)}, ${REGIONS.tests(repository)}`,
      );
      return;
    }
    if (check) {
      console.error(`README.md figures are stale (run npm run readme-figures):\n  ${stale.join('\n  ')}`);
      process.exit(1);
    }
    let updated = readme;
    for (const name of REPOSITORY_REGIONS) updated = withRegion(updated, name, REGIONS[name](repository));
    for (const name of PACKAGE_REGIONS) updated = withRegion(updated, name, REGIONS[name](pack));
    await writeFile(file, updated);
    console.log(`README.md: ${stale.join('; ')}`);
  }
  throw new Error('README.md figures did not settle after 3 passes');
};

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
