import { describe, expect, it } from 'vitest';
import { type ExternalTool, MissingToolError, toolAvailable } from './external-tools.js';

const absent: ExternalTool = {
  command: 'cfc-no-such-tool-on-any-path',
  probe: ['--version'],
  install: 'pip install no-such-tool',
};
// The shell every machine has, standing in for a tool that is installed.
const present: ExternalTool = { command: 'sh', probe: ['-c', 'exit 0'], install: 'n/a' };
// Found on PATH but not working (a pyenv shim whose Python lacks the tool exits 127).
const broken: ExternalTool = { command: 'sh', probe: ['-c', 'exit 127'], install: 'pip install broken' };

describe('toolAvailable', () => {
  it('is true for a tool that runs, and reports nothing', () => {
    const lines: string[] = [];
    expect(
      toolAvailable(present, 'x', { env: { PATH: process.env.PATH }, report: (l) => lines.push(l) }),
    ).toBe(true);
    expect(lines).toEqual([]);
  });

  it.each([
    ['absent', absent],
    ['failing its probe', broken],
  ])('outside CI, a tool %s is skipped with one line naming what and how to install it', (_, tool) => {
    const lines: string[] = [];
    const env = { PATH: process.env.PATH };
    expect(toolAvailable(tool, 'the moto suite', { env, report: (l) => lines.push(l) })).toBe(false);
    expect(lines).toEqual([`skipped: the moto suite: ${tool.command} not on PATH; ${tool.install}`]);
  });

  it.each(['true', '1', 'yes'])('with CI=%s a missing tool fails instead of skipping', (ci) => {
    const lines: string[] = [];
    const run = () =>
      toolAvailable(absent, 'the moto suite', {
        env: { PATH: process.env.PATH, CI: ci },
        report: (l) => lines.push(l),
      });
    expect(run).toThrow(MissingToolError);
    expect(run).toThrow(/the moto suite needs cfc-no-such-tool-on-any-path.*pip install no-such-tool/);
    expect(lines).toEqual([]);
  });

  it.each(['false', '0', ''])('CI=%s is not CI: the tool is skipped', (ci) => {
    expect(
      toolAvailable(absent, 'x', { env: { PATH: process.env.PATH, CI: ci }, report: () => undefined }),
    ).toBe(false);
  });
});
