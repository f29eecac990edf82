import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { bundleHandler, handlerNames } from '../../scripts/bundle.js';
import { lambdaContext } from './lambda.js';

export const run = promisify(execFile);

export interface BundleInvocation {
  readonly result?: unknown;
  /** `<name>: <message>` of what the handler threw. */
  readonly error?: string;
  /** Everything the process wrote (Powertools' JSON logs and EMF documents). */
  readonly output: string;
  readonly stdout: string;
}

/** The deployable bundles (`npm run build`'s esbuild settings), built once into a temporary folder. */
export interface BuiltBundles {
  readonly outRoot: string;
  /** Path of a function's bundle, `<outRoot>/<name>/index.mjs`. */
  file(name: string): string;
  /** Imports the bundle in a fresh Node 22 process and invokes its handler once with `event`. */
  invoke(name: string, event: unknown, env: Record<string, string>): Promise<BundleInvocation>;
}

export const buildBundles = async (): Promise<BuiltBundles> => {
  const outRoot = mkdtempSync(path.join(tmpdir(), 'cfc-bundles-'));
  const names = await handlerNames();
  await Promise.all(names.map((name) => bundleHandler(name, outRoot)));
  const file = (name: string) => path.join(outRoot, name, 'index.mjs');
  const invoke = async (name: string, event: unknown, env: Record<string, string>) => {
    const runner = path.join(outRoot, `run-${name}.mjs`);
    writeFileSync(
      runner,
      [
        `const { handler } = await import(${JSON.stringify(file(name))});`,
        `const event = JSON.parse(process.env.TEST_EVENT);`,
        `const context = JSON.parse(process.env.TEST_CONTEXT);`,
        'context.getRemainingTimeInMillis = () => 60000;',
        'try { const result = await handler(event, context); console.log("RESULT " + JSON.stringify(result ?? null)); }',
        'catch (e) { console.log("ERROR " + e.name + ": " + e.message); }',
      ].join('\n'),
    );
    const { stdout, stderr } = await run(process.execPath, [runner], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        POWERTOOLS_TRACE_ENABLED: 'false',
        TEST_EVENT: JSON.stringify(event),
        TEST_CONTEXT: JSON.stringify(lambdaContext(name)),
        ...env,
      },
      timeout: 60_000,
    });
    const lines = stdout.split('\n');
    const resultLine = lines.find((line) => line.startsWith('RESULT '));
    const errorLine = lines.find((line) => line.startsWith('ERROR '));
    return {
      ...(resultLine ? { result: JSON.parse(resultLine.slice('RESULT '.length)) } : {}),
      ...(errorLine ? { error: errorLine.slice('ERROR '.length) } : {}),
      output: `${stdout}\n${stderr}`,
      stdout,
    };
  };
  return { outRoot, file, invoke };
};

/** The EMF documents (Powertools Metrics) a run printed: one object per line that carries `_aws`. */
export const emfDocuments = (stdout: string): Array<Record<string, unknown>> =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** Metric names declared across EMF documents. */
export const emfMetricNames = (stdout: string): string[] =>
  emfDocuments(stdout).flatMap((doc) => {
    const aws = doc._aws as { CloudWatchMetrics?: Array<{ Metrics?: Array<{ Name: string }> }> };
    return (aws.CloudWatchMetrics ?? []).flatMap((m) => (m.Metrics ?? []).map((x) => x.Name));
  });
