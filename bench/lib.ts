/** Shared pieces of the benchmark: the result shape, small statistics, and the table format. */
import { cpus, totalmem } from 'node:os';

/** One line of the results table: a figure for the controller next to its baseline, measured in the same run. */
export interface FigureRow {
  /** What is measured, with its unit. */
  readonly figure: string;
  readonly controller: string;
  readonly baseline: string;
  /** controller ÷ baseline (or the comparison that reads naturally), already worded. */
  readonly comparison: string;
}

export interface ScenarioResult {
  /** The `--only` name. */
  readonly id: string;
  readonly title: string;
  /** What the baseline column is. */
  readonly baseline: string;
  readonly rows: readonly FigureRow[];
  /** Every raw number the rows were made from, for the JSON output. */
  readonly data: Record<string, unknown>;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  run(): Promise<ScenarioResult>;
}

export const machine = () => ({
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
  memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  node: process.version,
  platform: `${process.platform}/${process.arch}`,
  date: new Date().toISOString(),
});

export const median = (values: readonly number[]): number => percentile(values, 50);

/** Nearest-rank percentile. */
export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
};

export const fmt = (value: number, digits = 0): string =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';

export const ms = (value: number): string => `${fmt(value, value < 10 ? 2 : 0)} ms`;
export const mib = (bytes: number): string => `${fmt(bytes / 2 ** 20, 1)} MiB`;
export const times = (ratio: number): string => `${fmt(ratio, ratio < 10 ? 2 : 1)}×`;

/** Sorted `route: count` pairs, for the request-mix cell. */
export const routeMix = (byRoute: Readonly<Record<string, number>>): string =>
  Object.entries(byRoute)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, count]) => `${route.replace(/^(GET|POST|DELETE) \/api\/v2/, '$1 ')}: ${count}`)
    .join(', ');

/** The results as one Markdown table (the README and docs/benchmarks.md copy it as is). */
export const renderTable = (results: readonly ScenarioResult[]): string => {
  const header = ['Scenario', 'Figure', 'Controller', 'Baseline', 'Comparison'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const result of results) {
    result.rows.forEach((row, i) => {
      const scenario = i === 0 ? `**${result.title}** (baseline: ${result.baseline})` : '';
      lines.push(
        `| ${[scenario, row.figure, row.controller, row.baseline, row.comparison]
          .map((cell) => cell.replaceAll('|', '\\|'))
          .join(' | ')} |`,
      );
    });
  }
  return lines.join('\n');
};

/** Fails the benchmark loudly when a scenario's setup is not what it claims to measure. */
export const check = (condition: boolean, message: string): void => {
  if (!condition) throw new Error(`benchmark precondition failed: ${message}`);
};

/** Runs a TypeScript file in a fresh Node process (same binary, tsx loader) and returns its stdout. */
export const runTsChild = async (script: string, args: readonly string[]): Promise<string> => {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${script} exited with ${code}: ${err.trim()}`));
    });
  });
};
