/**
 * Today's engine for the side-by-side figures: the families engine and Coder client exactly as they
 * were at BASELINE_COMMIT (before issue 12), exported with `git archive` into bench/results/ (git
 * ignored) and imported from there, so the baseline is the old code itself, not an imitation.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASELINE_COMMIT = 'fd3d03c';

// biome-ignore lint/suspicious/noExplicitAny: the old modules' types are not this tree's
type Module = any;

export interface BaselineEngine {
  readonly CoderClient: Module;
  readonly CoderFamilyWorkspaces: Module;
  readonly reconcileFamilies: Module;
  readonly familiesConfigSchema: Module;
  readonly InMemoryFamilyLedger: Module;
  readonly InMemoryFamilyLocks: Module;
}

export const loadBaselineEngine = async (): Promise<BaselineEngine> => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const dir = path.join(root, 'bench', 'results', `baseline-${BASELINE_COMMIT}`);
  if (!existsSync(path.join(dir, 'lambdas'))) {
    mkdirSync(dir, { recursive: true });
    const archive = execFileSync('git', ['archive', BASELINE_COMMIT, 'lambdas'], { cwd: root });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
  }
  const load = (file: string) => import(path.join(dir, 'lambdas', file));
  const [client, workspaces, run, config, memory] = await Promise.all([
    load('adapters/coder/index.ts'),
    load('adapters/coder/family-workspaces.ts'),
    load('core/families/run.ts'),
    load('core/families/config.ts'),
    load('core/families/in-memory.ts'),
  ]);
  return {
    CoderClient: client.CoderClient,
    CoderFamilyWorkspaces: workspaces.CoderFamilyWorkspaces,
    reconcileFamilies: run.reconcileFamilies,
    familiesConfigSchema: config.familiesConfigSchema,
    InMemoryFamilyLedger: memory.InMemoryFamilyLedger,
    InMemoryFamilyLocks: memory.InMemoryFamilyLocks,
  };
};
