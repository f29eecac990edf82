/**
 * A check the families engine makes once per container, before its first snapshot: every managed
 * template declares `childMarkerParameter`. Coder drops values for parameters a template does not
 * declare without an error (coderd/dynamicparameters/resolver.go `ResolveParameters`, the default
 * for new templates since coder/coder#19006; the classic flow ignores them too), so without this
 * check the marker would silently never appear on any child.
 */
import type { Deadline } from '../../core/contracts/deadline.js';
import type { FamilyWorkspacesPort, RunCall, WorkspaceListing } from '../../core/families/ports.js';
import type { CoderClient } from './client.js';

export class ChildMarkerParameterError extends Error {
  override readonly name = 'ChildMarkerParameterError';
}

type TemplateClient = Pick<CoderClient, 'listTemplates' | 'getTemplateVersionRichParameters'>;

/** Throws ChildMarkerParameterError naming every managed template (active version) that lacks the marker. */
export const verifyChildMarkerParameter = async (
  client: TemplateClient,
  options: { readonly templates: readonly string[]; readonly organization: string; readonly marker: string },
  deadline?: Deadline,
): Promise<void> => {
  const wanted = new Set(options.templates.map((t) => t.toLowerCase()));
  const org = options.organization.toLowerCase();
  const templates = (await client.listTemplates(undefined, { deadline })).filter(
    (t) =>
      wanted.has(t.name.toLowerCase()) &&
      (org === 'default' ||
        t.organization_id.toLowerCase() === org ||
        t.organization_name?.toLowerCase() === org),
  );
  const lacking: string[] = [];
  for (const template of templates) {
    const parameters = await client.getTemplateVersionRichParameters(template.active_version_id, {
      deadline,
    });
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
 * tried again on the next (so fixing the template needs no redeploy). Every other method is the
 * inner port's, and the class implements the whole port, so a method added to it cannot be lost here.
 */
export class ChildMarkerCheckedWorkspaces implements FamilyWorkspacesPort {
  private passed: Promise<void> | undefined;

  constructor(
    private readonly port: FamilyWorkspacesPort,
    private readonly check: (call: RunCall) => Promise<void>,
  ) {}

  private ensure(call: RunCall): Promise<void> {
    this.passed ??= this.check(call).catch((error: unknown) => {
      this.passed = undefined;
      throw error;
    });
    return this.passed;
  }

  async listManagedWorkspaces(call: RunCall): Promise<WorkspaceListing> {
    await this.ensure(call);
    return this.port.listManagedWorkspaces(call);
  }

  async listOwnerWorkspaces(owner: string, call: RunCall): Promise<WorkspaceListing> {
    await this.ensure(call);
    return this.port.listOwnerWorkspaces(owner, call);
  }

  templateNames: FamilyWorkspacesPort['templateNames'] = (call) => this.port.templateNames(call);
  readWorkspace: FamilyWorkspacesPort['readWorkspace'] = (ref, call) => this.port.readWorkspace(ref, call);
  buildParameters: FamilyWorkspacesPort['buildParameters'] = (ids, call) =>
    this.port.buildParameters(ids, call);
  parentParameters: FamilyWorkspacesPort['parentParameters'] = (candidates, options, call) =>
    this.port.parentParameters(candidates, options, call);
  controllerUserId: FamilyWorkspacesPort['controllerUserId'] = (call) => this.port.controllerUserId(call);
  createWorkspace: FamilyWorkspacesPort['createWorkspace'] = (input, call) =>
    this.port.createWorkspace(input, call);
  transition: FamilyWorkspacesPort['transition'] = (id, transition, call) =>
    this.port.transition(id, transition, call);
  stats: FamilyWorkspacesPort['stats'] = () => this.port.stats();
}
