import { execFile } from 'node:child_process';
import * as path from 'node:path';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs the built CLI as a child process, asynchronously (the simulator lives in the test process
 * and must keep serving). A made-up AWS identity and no AWS config files: nothing can reach a real
 * account; `env` points the SDK at the test's local stand-ins.
 */
export const runCli = (
  cli: string,
  workdir: string,
  args: readonly string[],
  /** Variables over the defaults; undefined removes one (e.g. the made-up AWS keys). */
  env: Record<string, string | undefined> = {},
  /** Written to the CLI's standard input, which is then closed (closed at once without it). */
  input = '',
): Promise<CliRun> => {
  const started = Date.now();
  const merged: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: path.join(workdir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(workdir, 'no-aws-credentials'),
    ...env,
  };
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cli, ...args],
      {
        cwd: workdir,
        timeout: 60_000,
        env: Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)),
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
    child.stdin?.end(input);
  });
};
