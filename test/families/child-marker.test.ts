import { afterEach, describe, expect, it } from 'vitest';
import {
  ChildMarkerCheckedWorkspaces,
  ChildMarkerParameterError,
  verifyChildMarkerParameter,
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
      workspaces: new ChildMarkerCheckedWorkspaces(deps.workspaces, (call) =>
        verifyChildMarkerParameter(
          h.client,
          { templates: [TEMPLATE], organization: 'default', marker },
          call.deadline,
        ),
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
      workspaces: new ChildMarkerCheckedWorkspaces(deps.workspaces, (call) =>
        verifyChildMarkerParameter(
          h.client,
          { templates: ['marked'], organization: 'default', marker: 'family_parent' },
          call.deadline,
        ),
      ),
    };

    await reconcileFamilies(checked, all);
    await reconcileFamilies(checked, all);

    expect(liveWorkspaces(h.sim).get('team-1')?.parameters).toMatchObject({ family_parent: 'team' });
    // The marker check reads the template's parameters once per container, not once per run.
    expect(h.sim.requestCounts()['GET /api/v2/templateversions/{templateversion}/rich-parameters']).toBe(1);
  });

  it('keeps cheap count discovery behind the check (the wrapper forwards every port method)', async () => {
    // Prepare: more parents than one search per count value costs, so discovery pays off.
    h = await startFamilyHarness({ config: { maxChildren: 3 } });
    h.sim.seed.template({
      name: 'marked',
      parameters: [
        { name: COUNT, type: 'number', defaultValue: '0' },
        { name: 'family_parent', defaultValue: '' },
      ],
    });
    for (let i = 0; i < 12; i++) {
      h.sim.seed.workspace({
        owner: 'alice',
        name: `w${i}`,
        template: 'marked',
        parameters: { [COUNT]: '0' },
      });
    }
    const deps = h.makeDeps({
      config: { templates: ['marked'], childMarkerParameter: 'family_parent', maxChildren: 3 },
    });
    const checked = {
      ...deps,
      workspaces: new ChildMarkerCheckedWorkspaces(deps.workspaces, (call) =>
        verifyChildMarkerParameter(
          h.client,
          { templates: ['marked'], organization: 'default', marker: 'family_parent' },
          call.deadline,
        ),
      ),
    };

    // Act
    await reconcileFamilies(checked, { ...all, dryRun: true });

    // Assess: counts came from `param:` searches, not from 12 parameter reads.
    const searches = h.sim.exchanges().filter((e) => e.method === 'GET' && /[?&]q=param/.test(e.path));
    expect(searches.length).toBeGreaterThan(0);
    expect(h.sim.requestCounts()['GET /api/v2/workspacebuilds/{workspacebuild}/parameters'] ?? 0).toBe(0);
  });
});
