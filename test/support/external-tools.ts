/**
 * The tools the full suite runs that are not npm packages: moto_server (an AWS emulator) and
 * cfn-lint, both Python. A developer without them still gets a green `npm test` with one line per
 * skipped file saying what to install; in CI (`CI` set, as GitHub Actions and .ci/run set it) a
 * missing tool fails the file instead, so a CI run can never pass by skipping.
 */
import { spawnSync } from 'node:child_process';

export interface ExternalTool {
  /** The command looked up on PATH. */
  readonly command: string;
  /** Arguments that make it print something and exit 0 (a pyenv shim without the tool exits 127). */
  readonly probe: readonly string[];
  /** How to install it. */
  readonly install: string;
}

export const MOTO_SERVER: ExternalTool = {
  command: 'moto_server',
  probe: ['-h'],
  install: "pip install 'moto[server]'",
};

export const CFN_LINT: ExternalTool = {
  command: 'cfn-lint',
  probe: ['--version'],
  install: 'pip install cfn-lint',
};

export class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
}

/** `CI` set to anything but `false`/`0` (the convention cli/progress.ts follows too). */
const isCi = (env: NodeJS.ProcessEnv): boolean => {
  const ci = env.CI?.toLowerCase();
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
};

/**
 * Whether `tool` runs here. When it does not: outside CI, reports one line (what is skipped and how
 * to install the tool) and returns false, for `describe.skipIf(!…)`; in CI, throws.
 */
export const toolAvailable = (
  tool: ExternalTool,
  what: string,
  options: { readonly env?: NodeJS.ProcessEnv; readonly report?: (line: string) => void } = {},
): boolean => {
  const env = options.env ?? process.env;
  const probe = spawnSync(tool.command, [...tool.probe], { encoding: 'utf8', env, timeout: 30_000 });
  if (probe.status === 0) return true;
  if (isCi(env)) {
    throw new MissingToolError(
      `${what} needs ${tool.command}, which is not on PATH (CI=${env.CI}: not skipping); ${tool.install}`,
    );
  }
  (options.report ?? console.warn)(`skipped: ${what}: ${tool.command} not on PATH; ${tool.install}`);
  return false;
};
