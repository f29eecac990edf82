import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../lambdas/core/contracts/validation.js';
import { FAMILIES_DEFAULTS, familiesConfigSchema } from '../../../lambdas/core/families/config.js';

describe('familiesConfigSchema', () => {
  it('fills in the documented defaults', () => {
    expect(familiesConfigSchema.parse({ templates: ['dev'] })).toEqual({
      templates: ['dev'],
      ...FAMILIES_DEFAULTS,
    });
    expect(FAMILIES_DEFAULTS).toMatchObject({
      countParameter: 'additional_workspaces',
      maxChildren: 20,
      removalPolicy: 'delete',
      gracePeriodMs: 600_000,
      createConcurrency: 8,
      backoffBaseMs: 60_000,
      failureCap: 3,
    });
  });

  it('names every bad field', () => {
    const bad = {
      templates: [],
      maxChildren: 1000,
      removalPolicy: 'shred',
      createConcurrency: 0,
      countParameter: 'bad name',
      surprise: true,
    };
    try {
      parseConfig(familiesConfigSchema, bad, 'FAMILIES_CONFIG');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).problems.join('\n');
      for (const field of [
        'templates',
        'maxChildren',
        'removalPolicy',
        'createConcurrency',
        'countParameter',
        '(root)',
      ]) {
        expect(text).toContain(field);
      }
    }
  });

  it('rejects a child marker equal to the count parameter', () => {
    expect(() =>
      parseConfig(
        familiesConfigSchema,
        { templates: ['dev'], childMarkerParameter: 'additional_workspaces' },
        'x',
      ),
    ).toThrow(/childMarkerParameter: must differ/);
  });
});
