/**
 * `sim/main.ts`, the simulator run by hand: its help and usage errors (no stack traces), and the
 * README's by-hand example run as written against it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import type { CliIo } from '../../cli/output.js';

const MAIN = 'sim/main.ts';

/** `node --import tsx sim/main.ts …`, to its exit. */
const runMain = (args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });

/** The first ```sh block of the README that starts the simulator: its sim arguments and CLI commands. */
const byHandExample = (): { simArgs: string[]; cliCommands: string[][] } => {
  const readme = readFileSync('README.md', 'utf8');
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? '')
    .find((b) => b.includes(MAIN));
  if (!block) throw new Error(`README.md has no sh block that runs ${MAIN}`);
  const commands = block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean);
  const words = (line: string) => line.split(/\s+/);
  const sim = commands.find((line) => line.includes(MAIN)) ?? '';
  return {
    simArgs: words(sim).slice(words(sim).indexOf(MAIN) + 1),
    cliCommands: commands
      .filter((line) => line.startsWith('npm run cli -- '))
      .map((line) => words(line.slice('npm run cli -- '.length))),
  };
};

describe('sim/main.ts', () => {
  it('--help prints the usage and exits 0', async () => {
    const result = await runMain(['--help']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: npx tsx sim/main.ts [options]');
    expect(result.stdout).toContain('--seed demo');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['--bogus'], "error: Unknown option '--bogus'"],
    [['--port', 'abc'], 'error: --port must be a port number, got "abc"'],
    [['--seed', 'big'], 'error: --seed knows only "demo", got "big"'],
    [['--port'], "error: Option '--port <value>' argument missing"],
  ])('%j is a usage error: one line, the usage, exit 2, no stack trace', async (args, message) => {
    const result = await runMain(args);

    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(message);
    expect(result.stderr).toContain('Usage: npx tsx sim/main.ts [options]');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("the README's by-hand example works as written: the demo seed has its template and families", async () => {
    const { simArgs, cliCommands } = byHandExample();
    expect(cliCommands.length).toBeGreaterThan(0);
    // The README's port may be taken here: same arguments, any free port.
    const args = simArgs.map((a, i) => (simArgs[i - 1] === '--port' ? '0' : a));
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let printed = '';
      const env = await new Promise<Record<string, string>>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the simulator printed no token: ${printed}`)),
          20_000,
        );
        child?.stdout?.on('data', (chunk: Buffer) => {
          printed += chunk.toString();
          const url = /^CODER_URL=(\S+)$/m.exec(printed)?.[1];
          const token = /^CODER_SESSION_TOKEN=(\S+)$/m.exec(printed)?.[1];
          if (url && token) {
            clearTimeout(timer);
            resolve({ CODER_URL: url, CODER_SESSION_TOKEN: token });
          }
        });
      });
      for (const command of cliCommands) {
        const out = { stdout: '', stderr: '' };
        const io: CliIo = {
          stdout: (t) => {
            out.stdout += t;
          },
          stderr: (t) => {
            out.stderr += t;
          },
          env,
        };
        const code = await runCli([...command, '--json'], io);

        expect(code, `${command.join(' ')}: ${out.stderr}`).toBe(0);
        const doc = JSON.parse(out.stdout);
        if (command[0] === 'families') {
          expect(doc.report.families).toBe(3);
          expect(doc.report.summary.childrenMissing).toBe(6);
        }
      }
    } finally {
      child?.kill('SIGTERM');
    }
  });
});
