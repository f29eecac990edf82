import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  REGIONS,
  ReadmeRegionError,
  regionTexts,
  repositoryFigures,
  staleRegions,
  withRegion,
} from '../../scripts/readme-figures.js';

const readme = await readFile('README.md', 'utf8');

describe("README.md's figures", () => {
  it('state the number of Lambda bundles and test files the repository has (npm run readme-figures)', async () => {
    const repository = await repositoryFigures();
    expect(repository.bundles).toBeGreaterThanOrEqual(8);
    expect(staleRegions(readme, { repository })).toEqual([]);
  });

  it('mark every figure the scripts compute, the package figures included', () => {
    for (const name of Object.keys(REGIONS) as (keyof typeof REGIONS)[]) {
      expect(regionTexts(readme, name).length, name).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('the figures regions', () => {
  const text =
    'A: <!-- figures:tests -->10 test files<!-- /figures:tests -->; B: <!-- figures:tests -->9 test files<!-- /figures:tests -->.';

  it('are rewritten everywhere they occur, and nothing else is', () => {
    expect(withRegion(text, 'tests', '11 test files')).toBe(
      'A: <!-- figures:tests -->11 test files<!-- /figures:tests -->; B: <!-- figures:tests -->11 test files<!-- /figures:tests -->.',
    );
  });

  it('report each stale occurrence with what it says and what was computed', () => {
    expect(staleRegions(text, { repository: { bundles: 8, testFiles: 10 } })).toEqual([
      'bundles: no region in README.md',
      'tests: README says "9 test files", computed "10 test files"',
    ]);
  });

  it('refuse a README without the region rather than drop the figure', () => {
    expect(() => withRegion('no markers here', 'package', 'x')).toThrow(ReadmeRegionError);
  });
});
