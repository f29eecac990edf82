import { afterEach, describe, expect, it } from 'vitest';
import {
  ChildMarkerParameterError,
  verifyChildMarkerParameter,
  withChildMarkerCheck,
} from '../../lambdas/adapters/coder/family-templates.js';
import { reconcileFamilies } from '../../lambdas/core/families/run.js';
import { COUNT, type FamilyHarness, liveWorkspaces, startFamilyHarness, TEMPLATE } from './harness.js';

const all = { scope: { kind: 'all' as const }, dryRun: false, trigger: 'schedule' as const };

describe('childMarkerParameter the template does not declare', () => {
  let h: FamilyHarness;
  afterEach(() => h.close());

  const engine = (marker: string) => {
    const deps = h.makeDeps({ config: { childMarkerParameter: marker } });
    return {
      ...deps,
      workspaces: withChildMarkerCheck(deps.workspaces, () =>
        verifyChildMarkerParameter(h.client, { templates: [TEMPLATE], organization: 'default', marker }),
      ),
    };
  };

  it('fails the first run with a message naming the template and the parameter, creating nothing', async () => {
    // Prepare: Coder would silently drop `family_parent` (coderd/dynamicparameters/resolver.go).
    h = await startFamilyHarness();
    h.sim.seed.workspace({ owner: 'alice', name: 'team', template: TEMPLATE, parameters: { [COUNT]: '2' } });

    // Act / Assess
    const run = reconcileFamilies(engine('family_parent'), all);
    await expect(run).rejects.toBeInstanceOf(ChildMarkerParameterError);
    await expect(run).rejects.toThrow(
      `childMarkerParameter "family_parent" is not a parameter of template "coder/${TEMPLATE}"`,
    );
    expect([...liveWorkspaces(h.sim).keys()]).toEqual(['team']);
  });

  it('sets the marker on every child when the template declares it, checking the template once', async () => {
    h = await startFamilyHarness();
    h.sim.seed.template({
      name: 'marked',
      parameters: [
        { name: COUNT, type: 'number', defaultValue: '0' },
        { name: 'family_parent', defaultValue: '' },
      ],
    });
    h.sim.seed.workspace({ owner: 'alice', name: 'team', template: 'marked', parameters: { [COUNT]: '2' } });
    const deps = h.makeDeps({ config: { templates: ['marked'], childMarkerParameter: 'family_parent' } });
    const checked = {
      ...deps,
      workspaces: withChildMarkerCheck(deps.workspaces, () =>
        verifyChildMarkerParameter(h.client, {
          templates: ['marked'],
          organization: 'default',
          marker: 'family_parent',
        }),
      ),
    };

    await reconcileFamilies(checked, all);
    await reconcileFamilies(checked, all);

    expect(liveWorkspaces(h.sim).get('team-1')?.parameters).toMatchObject({ family_parent: 'team' });
    expect(h.sim.requestCounts()['GET /api/v2/templates']).toBe(1);
  });
});
