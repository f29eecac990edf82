/**
 * The package as a platform team gets it: `npm pack` of a build made here (the Lambda bundles,
 * the CLI and the compiled constructs, exactly what `npm run build` makes), installed into a fresh
 * CDK app outside this repository, then synthesized with cdk-nag from TypeScript (compiled with
 * tsc against the package's declarations) and from plain CommonJS JavaScript (Node 22's `require`
 * of ESM). Offline: the tarball goes in with `npm install --offline`; where the npm cache lacks its
 * dependencies, it is unpacked the way npm would, and its dependencies and the peers (aws-cdk-lib,
 * constructs, cdk-nag) come from this project's node_modules, one folder up, as a monorepo's would.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmPack, type PackResult, stagePackage } from '../../scripts/pack.js';
import { staleRegions } from '../../scripts/readme-figures.js';

const exec = promisify(execFile);
const root = process.cwd();
const packageJson = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};

let work: string;
let consumer: string;
let tarball: string;
let packed: PackResult;
let installedBy: 'npm install --offline' | 'unpacked';

const npm = (args: string[], cwd: string) =>
  exec('npm', args, {
    cwd,
    env: { ...process.env, npm_config_update_notifier: 'false' },
    maxBuffer: 2 ** 26,
  });

interface Template {
  Resources: Record<string, { Type: string; Properties?: { Code?: { S3Key?: string }; Handler?: string } }>;
  Outputs?: Record<string, { Value: unknown }>;
}

const synth = async (app: string, outdir: string) => {
  const run = await exec(process.execPath, [app, outdir], { cwd: consumer, maxBuffer: 2 ** 26 });
  const files = await readdir(outdir);
  const templates = await Promise.all(
    files
      .filter((f) => f.endsWith('.template.json'))
      .map(async (f) => JSON.parse(await readFile(path.join(outdir, f), 'utf8')) as Template),
  );
  return { ...run, files, templates };
};

const functionsOf = (template: Template) =>
  Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'cfc-package-'));
  // Prepare: the build, in a staging copy of the package (the repository's own dist/ is left alone).
  const stage = path.join(work, 'stage');
  await stagePackage(root, stage);
  packed = await npmPack(stage, work);
  tarball = path.join(work, packed.filename);

  // A platform team's app: its own folder; the project's node_modules one level up stands in for
  // the peers it already has.
  await symlink(path.join(root, 'node_modules'), path.join(work, 'node_modules'), 'dir');
  consumer = path.join(work, 'platform-app');
  await mkdir(consumer);
  await writeFile(
    path.join(consumer, 'package.json'),
    JSON.stringify({ name: 'platform-app', version: '1.0.0', private: true, type: 'module' }),
  );
  try {
    await npm(
      ['install', '--offline', '--no-audit', '--no-fund', '--omit=peer', '--ignore-scripts', tarball],
      consumer,
    );
    installedBy = 'npm install --offline';
  } catch {
    const target = path.join(consumer, 'node_modules', packageJson.name);
    await mkdir(target, { recursive: true });
    await exec('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
    installedBy = 'unpacked';
  }
}, 240_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds the compiled constructs, the prebuilt bundles and the CLI; no sources, tests or maps', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('dist/js/lib/index.js');
    expect(paths).toContain('dist/js/lib/index.d.ts');
    expect(paths).toContain('dist/cli/coder-fleet.mjs');
    // What a package of the field carries: its license text, its changelog, and the config's JSON Schema
    // at the path the example config names.
    expect(paths).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'CHANGELOG.md',
        'schema/config.schema.json',
        'config/seed-004.json',
      ]),
    );
    for (const fn of ['scaling-scheduler', 'families-reconcile', 'keys-rotation']) {
      expect(paths).toContain(`dist/${fn}/index.mjs`);
    }
    expect(paths.filter((p) => /^(test|bench|sim|scripts|lambdas|lib|cli|vendor)\//.test(p))).toEqual([]);
    // The compiled constructs carry no Lambda runtime: no wiring, adapter or handler came along with them.
    expect(paths.filter((p) => /^dist\/js\/lambdas\/(wiring|adapters|handlers)\//.test(p))).toEqual([]);
    expect(paths.filter((p) => p.endsWith('.map') || (p.endsWith('.ts') && !p.endsWith('.d.ts')))).toEqual(
      [],
    );
    expect(packed.size).toBeLessThan(3 * 2 ** 20);
    console.info(
      `packed: ${(packed.size / 2 ** 20).toFixed(2)} MiB (${(packed.unpackedSize / 2 ** 20).toFixed(1)} MiB unpacked), ${paths.length} files; installed by ${installedBy}`,
    );
  });

  it('is what README.md says it is: its size, unpacked size and file count (npm run readme-figures)', async () => {
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    expect(staleRegions(readme, { pack: packed })).toEqual([]);
  });

  it('synthesizes in a TypeScript CDK app, type-checked against its declarations, cdk-nag clean, from the prebuilt bundles', async () => {
    // Prepare: the whole controller (the reference deployment's configuration, every function).
    await writeFile(
      path.join(consumer, 'app.ts'),
      `import { App, CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CoderFleetController, type CoderFleetControllerProps, referenceControllerConfig } from '${packageJson.name}';

const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'PlatformTs', { env: { account: '123456789012', region: 'us-east-1' } });
const props: CoderFleetControllerProps = { config: referenceControllerConfig };
const controller: CoderFleetController = new CoderFleetController(stack, 'CoderFleet', props);
// The README's CfnOutput pattern: what a deployer needs next, from the construct's properties.
if (controller.webhookUrl) new CfnOutput(stack, 'WebhookUrl', { value: controller.webhookUrl });
for (const { name, secret, action } of controller.secretsToFill) {
  new CfnOutput(stack, \`\${name}SecretArn\`, { value: secret.secretArn, description: action });
}
new CfnOutput(stack, 'DashboardName', { value: controller.dashboardName });
new CfnOutput(stack, 'CriticalAlarmTopicArn', { value: controller.alarmTopics.critical.topicArn });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
`,
    );
    await writeFile(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: true,
          outDir: 'built',
          types: ['node'],
          typeRoots: [path.join(root, 'node_modules/@types')],
        },
        files: ['app.ts'],
      }),
    );
    // Act: compile (a type error fails here), then synthesize.
    await exec(
      process.execPath,
      [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
      {
        cwd: consumer,
      },
    );
    const result = await synth(path.join(consumer, 'built', 'app.js'), path.join(work, 'out-ts'));
    // Assess: every function deploys its own prebuilt folder; nothing was bundled at synth.
    const [template] = result.templates;
    expect(template).toBeDefined();
    expect(Object.keys((template as Template).Outputs ?? {}).sort()).toEqual([
      'CoderTokenSecretArn',
      'CriticalAlarmTopicArn',
      'DashboardName',
      'ProvisionerKeySecretArn',
      'WebhookUrl',
    ]);
    const functions = functionsOf(template as Template);
    expect(functions).toHaveLength(7);
    expect(new Set(functions.map((f) => f.Properties?.Code?.S3Key)).size).toBe(7);
    expect(functions.every((f) => f.Properties?.Handler === 'index.handler')).toBe(true);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/Bundling asset/);
    const assets = result.files.filter((f) => f.startsWith('asset.'));
    expect(assets).toHaveLength(7);
    for (const asset of assets) {
      expect(await readdir(path.join(work, 'out-ts', asset))).toContain('index.mjs');
    }
  }, 120_000);

  it('synthesizes in a plain JavaScript (CommonJS) CDK app, cdk-nag clean', async () => {
    await writeFile(
      path.join(consumer, 'app.cjs'),
      `const { App, Stack, Validations } = require('aws-cdk-lib');
const { AwsSolutionsChecks } = require('cdk-nag');
const { CoderFleetController } = require('${packageJson.name}');

const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'PlatformJs');
new CoderFleetController(stack, 'CoderOps', {
  config: { coder: { url: 'https://coder.platform.example' }, provisionerKeys: { organization: 'platform' } },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
`,
    );
    const result = await synth(path.join(consumer, 'app.cjs'), path.join(work, 'out-js'));
    const [template] = result.templates;
    const types = Object.values((template as Template).Resources).map((r) => r.Type);
    expect(types).toContain('AWS::SecretsManager::RotationSchedule');
    expect(functionsOf(template as Template).length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('a bad configuration fails synth with the field named, not a stack trace', async () => {
    await writeFile(
      path.join(consumer, 'bad.cjs'),
      `const { App, Stack } = require('aws-cdk-lib');
const { CoderFleetController } = require('${packageJson.name}');
new CoderFleetController(new Stack(new App(), 'Bad'), 'C', { config: { coder: { url: 'not a url' } } });
`,
    );
    await expect(exec(process.execPath, [path.join(consumer, 'bad.cjs')], { cwd: consumer })).rejects.toThrow(
      /coder\.url/,
    );
  });

  it('`coder-fleet --help` and `--version` run from the tarball with nothing but Node 22', async () => {
    // Prepare: the bin alone, in a folder with no node_modules anywhere above it.
    const bare = await mkdtemp(path.join(tmpdir(), 'cfc-bare-'));
    try {
      await cp(
        path.join(consumer, 'node_modules', packageJson.name, 'dist/cli/coder-fleet.mjs'),
        path.join(bare, 'coder-fleet.mjs'),
      );
      const env = { PATH: path.dirname(process.execPath), HOME: bare };
      // Act
      const help = await exec(process.execPath, [path.join(bare, 'coder-fleet.mjs'), '--help'], {
        cwd: bare,
        env,
      });
      const version = await exec(process.execPath, [path.join(bare, 'coder-fleet.mjs'), '--version'], {
        cwd: bare,
        env,
      });
      // Assess
      expect(help.stdout).toContain('Usage: coder-fleet <command>');
      expect(help.stdout).toContain('keys rotate');
      expect(version.stdout).toContain(`coder-fleet ${packageJson.version}`);
    } finally {
      await rm(bare, { recursive: true, force: true });
    }
  });
});
