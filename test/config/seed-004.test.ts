import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seed004ControllerConfig } from '../../config/seed-004.js';
import { parseControllerConfig } from '../../lib/config.js';

describe('the example configuration', () => {
  it('config/seed-004.json (for `cdk synth -c config=…`) is the seed 004 example, and it validates', () => {
    const fromFile: unknown = JSON.parse(readFileSync('config/seed-004.json', 'utf8'));
    // The file also names its JSON Schema for editors (test/config/config-schema.test.ts); the rest is equal.
    const { $schema, ...settings } = fromFile as Record<string, unknown>;
    expect($schema).toBe('../schema/config.schema.json');
    expect(settings).toEqual(JSON.parse(JSON.stringify(seed004ControllerConfig)));
    const parsed = parseControllerConfig(fromFile);
    expect(parsed.scaling?.nodeGroups.map((g) => g.name)).toEqual([
      'coder-ws',
      'coder-prov',
      'coder-control',
    ]);
    expect(parsed.scaling?.schedule.timeZone).toBe('America/New_York');
    expect(parsed.provisionerKeys?.maxKeyAgeDays).toBe(90);
    expect(parsed.provisionerKeys?.alertLeadDays).toBe(14);
  });
});
