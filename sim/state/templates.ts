/** Templates and their (single, active) versions with the rich parameters they declare. */

import { isoNow, type SimTime, WALL_TIME } from '../clock.js';
import { CoderApiError, tagDetail, validationFailed } from '../errors.js';
import { newId, type SimTemplate, type SimUser } from '../model.js';
import { mutateTags } from '../provisioning/tags.js';
import type { SimulatorSeeder } from '../types.js';
import type { Directory } from './directory.js';

/** codersdk.NameValid: letters and digits with single hyphens between them. */
const TEMPLATE_NAME = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;

export class TemplateCatalog {
  readonly templates = new Map<string, SimTemplate>();

  constructor(
    private readonly directory: Directory,
    private readonly time: SimTime = WALL_TIME,
  ) {}

  templateOf(id: string): SimTemplate {
    const t = this.templates.get(id);
    if (t === undefined) throw new Error(`unknown template ${id}`);
    return t;
  }

  templateByVersion(versionId: string): SimTemplate | undefined {
    for (const t of this.templates.values()) if (t.activeVersionId === versionId) return t;
    return undefined;
  }

  addTemplate(t: Parameters<SimulatorSeeder['template']>[0], createdBy: SimUser): SimTemplate {
    const org = this.directory.orgOrDefault(t.organization);
    const name = t.name.toLowerCase();
    for (const other of this.templates.values()) {
      if (other.orgId === org.id && other.name === name)
        throw new Error(`template ${name} exists in ${org.name}`);
    }
    const template: SimTemplate = {
      id: newId(),
      orgId: org.id,
      name,
      displayName: t.displayName ?? t.name,
      activeVersionId: newId(),
      activeVersionName: `${name}-v1`,
      parameters: t.parameters ?? [],
      allowUserAutostart: t.allowUserAutostart ?? true,
      defaultTtlMs: t.defaultTtlMs ?? 0,
      createdById: createdBy.id,
      createdAt: isoNow(this.time),
      importJobId: newId(),
      // coderd stores the import job's tags through provisionersdk.MutateTags
      // (coderd/templateversions.go, postTemplateVersionsByOrganization).
      provisionerTags: mutateTags(createdBy.id, t.provisionerTags ?? {}),
    };
    this.templates.set(template.id, template);
    return template;
  }

  /**
   * `PATCH /templates/{template}` with a new `name` (coderd/templates.go `patchTemplateMeta`): an
   * empty name keeps the old one; a name another template of the organization has answers 409. The
   * simulator changes only the name (Coder replaces the other metadata with the request's).
   * Workspaces keep their template; they show the new `template_name`.
   */
  renameTemplate(template: SimTemplate, name: unknown): void {
    if (name === undefined || name === '') return;
    if (typeof name !== 'string' || !TEMPLATE_NAME.test(name) || name.length > 32) {
      throw validationFailed([{ field: 'name', detail: tagDetail('template_name', String(name)) }]);
    }
    const lower = name.toLowerCase();
    for (const other of this.templates.values()) {
      if (other.id !== template.id && other.orgId === template.orgId && other.name === lower) {
        throw new CoderApiError(409, `Template with name "${name}" already exists.`, {
          validations: [{ field: 'name', detail: 'This value is already in use and should be unique.' }],
        });
      }
    }
    template.name = lower;
  }

  /** A template by name, preferring the given org; seeding helpers accept names for convenience. */
  findTemplate(name: string, orgRef: string | undefined): SimTemplate {
    const org = orgRef === undefined ? undefined : this.directory.resolveOrg(orgRef, undefined);
    const lower = name.toLowerCase();
    const candidates = [...this.templates.values()].filter(
      (t) => t.name === lower && (org === undefined || t.orgId === org.id),
    );
    const preferred = candidates.find((t) => t.orgId === this.directory.defaultOrg().id) ?? candidates[0];
    if (preferred === undefined) throw new Error(`unknown template ${name}`);
    return preferred;
  }
}
