import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FUNCTION } from '../../lambdas/wiring/names.js';

const handlersDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../lambdas/handlers');

describe('function names', () => {
  it('name each handler file once, and nothing else', async () => {
    const files = (await readdir(handlersDir)).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
    expect(files.sort()).toEqual(Object.values(FUNCTION).sort());
  });

  it.each(Object.values(FUNCTION))(
    '%s: its Powertools service (the alarms’ dimension) is its file name and starts with its capability',
    async (name) => {
      const module = (await import(path.join(handlersDir, `${name}.ts`))) as { handler: { service: string } };
      expect(module.handler.service).toBe(name);
      expect(name).toMatch(/^(scaling|keys|families)-[a-z]+$/);
    },
  );
});
