/**
 * A check the families engine makes once per container, before its first snapshot: every managed
 * template declares `childMarkerParameter`. Coder drops values for parameters a template does not
 * declare without an error (coderd/dynamicparameters/resolver.go `ResolveParameters`, the default
 * for new templates since coder/coder#19006; the classic flow ignores them too), so without this
 * check the marker would silently never appear on any child.
 */
import type { BuildParameter, FamilyWorkspace } from '../../core/families/model.js';
import type { FamilyWorkspacesPort } from '../../core/families/ports.js';
import type { CoderClient } from './client.js';

export class ChildMarkerParameterError extends Error {
  override readonly name = 'ChildMarkerParameterError';
}

type TemplateClient = Pick<CoderClient, 'listTemplates' | 'getTemplateVersionRichParameters'>;

/** Throws ChildMarkerParameterError naming every managed template (active version) that lacks the marker. */
export const verifyChildMarkerParameter = async (
  client: TemplateClient,
  options: { readonly templates: readonly string[]; readonly organization: string; readonly marker: string },
): Promise<void> => {
  const wanted = new Set(options.templates.map((t) => t.toLowerCase()));
  const org = options.organization.toLowerCase();
  const templates = (await client.listTemplates()).filter(
    (t) =>
      wanted.has(t.name.toLowerCase()) &&
      (org === 'default' ||
        t.organization_id.toLowerCase() === org ||
        t.organization_name?.toLowerCase() === org),
  );
  const lacking: string[] = [];
  for (const template of templates) {
    const parameters = await client.getTemplateVersionRichParameters(template.active_version_id);
    if (!parameters.some((p) => p.name === options.marker)) {
      lacking.push(`"${template.organization_name ? `${template.organization_name}/` : ''}${template.name}"`);
    }
  }
  if (lacking.length > 0) {
    throw new ChildMarkerParameterError(
      `childMarkerParameter "${options.marker}" is not a parameter of template ${lacking.join(', ')} ` +
        '(its active version); Coder would drop the value without an error. Add the parameter to the template, or remove childMarkerParameter from the families config',
    );
  }
};

/**
 * The port with the check in front of its snapshots: run once; a failure fails this run and is
 * tried again on the next (so fixing the template needs no redeploy).
 */
export const withChildMarkerCheck = (
  port: FamilyWorkspacesPort,
  check: () => Promise<void>,
): FamilyWorkspacesPort => {
  let passed: Promise<void> | undefined;
  const ensure = (): Promise<void> => {
    passed ??= check().catch((error: unknown) => {
      passed = undefined;
      throw error;
    });
    return passed;
  };
  return {
    listManagedWorkspaces: async (): Promise<FamilyWorkspace[]> => {
      await ensure();
      return port.listManagedWorkspaces();
    },
    listOwnerWorkspaces: async (owner) => {
      await ensure();
      return port.listOwnerWorkspaces(owner);
    },
    describeWorkspace: (id) => port.describeWorkspace(id),
    buildParameters: (ids): Promise<Map<string, BuildParameter[]>> => port.buildParameters(ids),
    controllerUserId: () => port.controllerUserId(),
    createWorkspace: (input) => port.createWorkspace(input),
    getWorkspaceByOwnerAndName: (owner, name) => port.getWorkspaceByOwnerAndName(owner, name),
    transition: (id, transition) => port.transition(id, transition),
    stats: () => port.stats(),
  };
};
