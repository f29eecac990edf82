/**
 * The construct side loads no Lambda runtime code at synth: walking the import graph of the
 * package's entry (lib/index.ts) and of the project's CDK app (bin/app.ts), transitively, reaches
 * no AWS SDK client, Powertools, X-Ray or middy module and no file of lambdas/wiring, adapters or
 * handlers (the constants a construct shares with a handler live in lambdas/contracts/). And every
 * package the construct does load is one a consumer installs: a dependency or a peer dependency.
 *
 * The graph is esbuild's: every relative import followed, every package import recorded (and not
 * followed), type-only imports dropped as tsc drops them, which is what Node loads from dist/js.
 */
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

interface ImportGraph {
  /** Every source file reached, relative to the repository. */
  readonly files: readonly string[];
  /** Every package import reached (`@aws-sdk/client-eks`, `aws-cdk-lib/aws-iam`, `node:fs`), with an importer. */
  readonly packages: ReadonlyMap<string, string>;
}

const importGraph = async (entry: string): Promise<ImportGraph> => {
  const { metafile } = await build({
    entryPoints: [entry],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const packages = new Map<string, string>();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    for (const imported of input.imports) {
      if (imported.external && !packages.has(imported.path)) packages.set(imported.path, file);
    }
  }
  return { files: Object.keys(metafile.inputs), packages };
};

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
const packageName = (specifier: string): string => {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
};

/** The Lambda runtime: what the prebuilt bundles carry and the construct must never load. */
const LAMBDA_RUNTIME = /^(@aws-sdk\/|@smithy\/|@aws-lambda-powertools\/|aws-xray-sdk|@middy\/)/;
const LAMBDA_LAYERS = /^lambdas\/(wiring|adapters|handlers)\//;

const runtimeReached = (graph: ImportGraph) => ({
  packages: [...graph.packages]
    .filter(([name]) => LAMBDA_RUNTIME.test(name))
    .map(([n, by]) => `${n} <- ${by}`),
  files: graph.files.filter((file) => LAMBDA_LAYERS.test(file)),
});

const manifest = JSON.parse(await readFile('package.json', 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};

describe('what the construct loads at synth', () => {
  it.each(['lib/index.ts', 'bin/app.ts'])(
    '%s reaches no AWS SDK, Powertools, X-Ray or middy module and no wiring, adapter or handler',
    async (entry) => {
      // Act
      const graph = await importGraph(entry);

      // Assess: the walk went through the constructs into the shared contracts and the pure config.
      expect(graph.files).toEqual(
        expect.arrayContaining([
          'lib/coder-fleet-controller.ts',
          'lambdas/contracts/names.ts',
          'lib/config.ts',
        ]),
      );
      expect(runtimeReached(graph)).toEqual({ packages: [], files: [] });
    },
  );

  it('finds the runtime where it is: a handler reaches the SDK, Powertools and its wiring', async () => {
    const graph = await importGraph('lambdas/handlers/scaling-scheduler.ts');
    const reached = runtimeReached(graph);
    expect(reached.packages.map((p) => packageName(p.split(' ')[0] ?? ''))).toEqual(
      expect.arrayContaining(['@aws-sdk/client-eks', '@aws-lambda-powertools/logger', '@middy/core']),
    );
    expect(reached.files).toContain('lambdas/wiring/scaling.ts');
  });

  it('loads only packages a consumer installs with it: its dependencies, peer dependencies and Node built-ins', async () => {
    const graph = await importGraph('lib/index.ts');
    const installed = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    const builtins = new Set(builtinModules);
    const missing = [...graph.packages.keys()]
      .filter((specifier) => !specifier.startsWith('node:') && !builtins.has(specifier))
      .map(packageName)
      .filter((name) => !installed.has(name));
    expect([...new Set(missing)]).toEqual([]);
    // And nothing is a dependency that the construct never loads (the bundles and the CLI carry their own).
    const loaded = new Set([...graph.packages.keys()].map(packageName));
    expect(Object.keys(manifest.dependencies ?? {}).filter((name) => !loaded.has(name))).toEqual([]);
  });
});
