/**
 * `npm run bench`: every scenario of issue 8, each next to its baseline in the same run, on the
 * Coder simulator over HTTP on 127.0.0.1. Prints a Markdown table; with `--json`, stdout is one
 * JSON document (the figures) and the table goes to stderr. Results are written to bench/results/ (git-ignored). `--only <id>` runs one.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { machine, renderTable, type Scenario, type ScenarioResult } from './lib.js';
import { coldScale } from './scenarios/cold-scale.js';
import { coldStart } from './scenarios/cold-start.js';
import { familyCreation } from './scenarios/family-creation.js';
import { provisionerQueue } from './scenarios/provisioner-queue.js';
import { rateLimit } from './scenarios/rate-limit.js';
import { scalingRun } from './scenarios/scaling-run.js';
import { steadyState } from './scenarios/steady-state.js';
import { webhookIngest } from './scenarios/webhook-ingest.js';

const SCENARIOS: readonly Scenario[] = [
  steadyState,
  familyCreation,
  rateLimit,
  webhookIngest,
  coldStart,
  scalingRun,
  coldScale,
  provisionerQueue,
];

const parseArgs = (argv: readonly string[]) => {
  const json = argv.includes('--json');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1]?.split(',') : undefined;
  const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
  if (onlyAt >= 0 && (only === undefined || unknown.length > 0)) {
    throw new Error(`--only takes one of: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  }
  return { json, only };
};

const main = async (): Promise<void> => {
  const { json, only } = parseArgs(process.argv.slice(2));
  const selected = SCENARIOS.filter((s) => only === undefined || only.includes(s.id));
  const host = machine();
  const header = `Machine: ${host.cpus} CPUs (${host.cpuModel}), ${host.memoryGiB} GiB, Node ${host.node} ${host.platform}; date ${host.date}`;
  // With --json, stdout carries the JSON document alone; what people read goes to stderr.
  const say = (text: string) => (json ? process.stderr.write(`${text}\n`) : console.log(text));
  say(header);
  const results: ScenarioResult[] = [];
  const durations: Record<string, number> = {};
  for (const scenario of selected) {
    process.stderr.write(`running ${scenario.id}…\n`);
    const started = performance.now();
    results.push(await scenario.run());
    durations[scenario.id] = Math.round(performance.now() - started);
  }
  say('');
  say(renderTable(results));
  const report = { machine: host, scenarios: results, scenarioDurationsMs: durations };
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await mkdir(dir, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const file = path.join(dir, `bench-${host.date.replaceAll(':', '-')}.json`);
  await writeFile(file, text);
  await writeFile(path.join(dir, 'latest.json'), text);
  if (json) process.stdout.write(text);
  process.stderr.write(`results written to ${path.relative(process.cwd(), file)}\n`);
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
