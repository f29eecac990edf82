/**
 * Scenario 5: each Lambda bundle as deployed (scripts/bundle.ts's bundleHandler, lean) next to the
 * same handler as it was bundled before lean bundles (the base commit's source and esbuild
 * settings, built in this run) — size, and the time a fresh Node process takes to import it —
 * against an empty handler bundled the same way. Repetitions go round-robin over every bundle so
 * machine noise spreads evenly; the median is reported.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { seed004ScalingConfig } from '../../config/seed-004.js';
import { HANDLERS_DIR } from '../../lib/common/function-bundling.js';
import { bundleFiles, bundleHandler, handlerNames } from '../../scripts/bundle.js';
import { check, fmt, median, ms, type Scenario, type ScenarioResult, times } from '../lib.js';

const REPS = 5;
const EMPTY = '(empty handler)';
/** The last commit before lean bundles: "today's" bundles are built from its source and settings. */
export const BEFORE_LEAN_COMMIT = '43e8a00';
const BEFORE = ' (before)';
/** The targets of issue 15: at most 600 KiB loaded at cold start, at most 4× the empty handler's process. */
const MAX_KIB = 600;
const MAX_PROCESS_RATIO = 4;

/** The base commit's handler sources in `dir`, or undefined outside a git checkout that has it. */
const beforeLeanSource = async (dir: string): Promise<string | undefined> => {
  try {
    const archive = execFileSync('git', ['archive', BEFORE_LEAN_COMMIT, 'lambdas', 'tsconfig.json'], {
      maxBuffer: 64 * 2 ** 20,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await mkdir(dir, { recursive: true });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
    await symlink(path.resolve('node_modules'), path.join(dir, 'node_modules'), 'dir');
    return dir;
  } catch {
    return undefined;
  }
};

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret';
/**
 * The environment the CDK constructs give the functions (some parse their config at import, as
 * they do during a Lambda init), shared by every bundle including the empty one.
 */
const LAMBDA_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  CODER_URL: 'https://coder.example.com',
  CODER_TOKEN_SECRET_ARN: `${ARN}:coder-token-AbCdEf`,
  PROVISIONER_KEY_SECRET_ARN: `${ARN}:provisioner-key-AbCdEf`,
  PROVISIONER_KEY_CONFIG: JSON.stringify({ organization: 'coder' }),
  SCALING_CONFIG: JSON.stringify(seed004ScalingConfig),
  SCALING_OVERRIDE_TABLE: 'scaling-overrides',
  WEBHOOK_SECRET_ARN: `${ARN}:families-webhook-AbCdEf`,
  FAMILY_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/families.fifo',
  FAMILIES_CONFIG: JSON.stringify({ templates: ['team-dev'] }),
  LEDGER_TABLE_NAME: 'families-ledger',
  LOCK_TABLE_NAME: 'families-locks',
};

/** Imports the bundle in a new process and prints how long the import took, in ms. */
const IMPORT_SCRIPT =
  'const t = performance.now(); await import(process.env.BENCH_BUNDLE); process.stdout.write(String(performance.now() - t));';

const timeImport = (file: string): Promise<{ importMs: number; processMs: number }> =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', IMPORT_SCRIPT], {
      env: { ...LAMBDA_ENV, PATH: process.env.PATH ?? '', BENCH_BUNDLE: pathToFileURL(file).href },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const importMs = Number(out);
      if (code !== 0 || !Number.isFinite(importMs))
        reject(new Error(`importing ${file} failed (${code}): ${err}`));
      else resolve({ importMs, processMs: performance.now() - started });
    });
  });

export const coldStart: Scenario = {
  id: 'cold-start',
  title: '5. Cold start: bundle size and import time',
  async run(): Promise<ScenarioResult> {
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-bundles-'));
    try {
      const bundles = new Map<string, string>();
      const unbuilt = new Map<string, string>();
      const names = await handlerNames();
      const beforeRoot = await beforeLeanSource(path.join(dir, 'before-src'));
      const newSince = new Set<string>();
      for (const name of names) {
        try {
          bundles.set(name, await bundleHandler(name, path.join(dir, 'out')));
          if (beforeRoot && !existsSync(path.join(beforeRoot, HANDLERS_DIR, `${name}.ts`))) {
            // A function added after the baseline commit has no "before" to compare with.
            newSince.add(name);
          } else if (beforeRoot) {
            bundles.set(
              `${name}${BEFORE}`,
              await bundleHandler(name, path.join(dir, 'out-before'), beforeRoot, { lean: false }),
            );
          }
        } catch (error) {
          // Reported, not hidden: a handler that does not bundle gets a row saying so.
          const message = error instanceof Error ? error.message : String(error);
          unbuilt.set(name, message.split('\n').filter(Boolean).slice(0, 2).join(' '));
        }
      }
      // The empty handler goes through the same bundler from a scratch source tree.
      const emptyRoot = path.join(dir, 'empty-src');
      await mkdir(path.join(emptyRoot, HANDLERS_DIR), { recursive: true });
      await writeFile(
        path.join(emptyRoot, HANDLERS_DIR, 'empty.ts'),
        'export const handler = async (): Promise<{ statusCode: number }> => ({ statusCode: 200 });\n',
      );
      bundles.set(EMPTY, await bundleHandler('empty', path.join(dir, 'out-empty'), emptyRoot));

      const samples = new Map<string, { importMs: number[]; processMs: number[] }>();
      for (const name of bundles.keys()) samples.set(name, { importMs: [], processMs: [] });
      for (let rep = 0; rep < REPS; rep++) {
        for (const [name, file] of bundles) {
          const t = await timeImport(file);
          samples.get(name)?.importMs.push(t.importMs);
          samples.get(name)?.processMs.push(t.processMs);
        }
      }
      const sizes = new Map<string, number>();
      const onDemand = new Map<string, number>();
      for (const [name, file] of bundles) {
        const files = await bundleFiles(path.dirname(file));
        sizes.set(name, files.find((f) => f.file === file)?.bytes ?? 0);
        onDemand.set(
          name,
          files.filter((f) => f.file !== file).reduce((sum, f) => sum + f.bytes, 0),
        );
      }
      const emptyImport = median(samples.get(EMPTY)?.importMs ?? []);
      const emptyProcess = median(samples.get(EMPTY)?.processMs ?? []);
      const emptySize = sizes.get(EMPTY) ?? 0;
      check(emptySize > 0 && emptySize < 1024, `empty bundle is ${emptySize} bytes`);

      const kib = (bytes: number) => `${fmt(bytes / 1024, bytes < 10 * 1024 ? 1 : 0)} KiB`;
      const figures = (name: string) => {
        const s = samples.get(name) ?? { importMs: [], processMs: [] };
        const processMs = median(s.processMs);
        return {
          bytes: sizes.get(name) ?? 0,
          onDemandBytes: onDemand.get(name) ?? 0,
          importMs: median(s.importMs),
          processMs,
          processRatio: processMs / emptyProcess,
        };
      };
      const summary: Record<string, unknown> = {};
      const rows = names
        .filter((name) => bundles.has(name))
        .map((name) => {
          const lean = figures(name);
          const before = bundles.has(`${name}${BEFORE}`) ? figures(`${name}${BEFORE}`) : undefined;
          const sizeOk = lean.bytes <= MAX_KIB * 1024;
          const ratioOk = lean.processRatio <= MAX_PROCESS_RATIO;
          const withinTargets = sizeOk && ratioOk;
          summary[name] = { lean, before, withinTargets };
          return {
            figure: `${name}: index.mjs size; import (whole process), × empty handler's process`,
            controller: `${kib(lean.bytes)} (+ ${kib(lean.onDemandBytes)} on demand); ${ms(lean.importMs)} (${ms(lean.processMs)}), ${times(lean.processRatio)}`,
            baseline: before
              ? `before: ${kib(before.bytes)}; ${ms(before.importMs)} (${ms(before.processMs)}), ${times(before.processRatio)}`
              : newSince.has(name)
                ? `before: none (new since ${BEFORE_LEAN_COMMIT})`
                : 'before: not built (no git history)',
            comparison: `${before ? `size ${times(lean.bytes / before.bytes)}, process ${times(lean.processMs / before.processMs)} of before; ` : ''}size ${sizeOk ? 'within' : 'OVER'} ${MAX_KIB} KiB, ${ratioOk ? 'within' : 'OVER'} ${MAX_PROCESS_RATIO}×`,
          };
        });
      rows.push({
        figure: `${EMPTY}: size; import (whole process)`,
        controller: `${kib(emptySize)}; ${ms(emptyImport)} (${ms(emptyProcess)})`,
        baseline: '',
        comparison: '',
      });
      for (const [name, reason] of unbuilt) {
        rows.push({ figure: `${name}: does not bundle`, controller: reason, baseline: '', comparison: '' });
      }
      return {
        id: this.id,
        title: this.title,
        baseline: `the same handler before lean bundles (commit ${BEFORE_LEAN_COMMIT}'s source and settings), and an empty handler bundled the same way; median of ${REPS} fresh processes`,
        rows,
        data: {
          reps: REPS,
          node: process.version,
          beforeLeanCommit: BEFORE_LEAN_COMMIT,
          targets: { maxKiB: MAX_KIB, maxProcessRatio: MAX_PROCESS_RATIO },
          summary,
          sizes: Object.fromEntries(sizes),
          onDemandSizes: Object.fromEntries(onDemand),
          unbuilt: Object.fromEntries(unbuilt),
          samples: Object.fromEntries(samples),
        },
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
