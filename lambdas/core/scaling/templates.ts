import { closest } from '../contracts/suggest.js';

/**
 * Template names match as Coder matches them: case-insensitively. A template's name is unique per
 * organization whatever its case, and the workspace search's `template:` term compares
 * `lower(templates.name) = lower(@template_name)` (coderd/database/queries/workspaces.sql,
 * `GetWorkspaces`); the whole search query is lower-cased first (coderd/searchquery/search.go).
 */
export const templateKey = (name: string): string => name.toLowerCase();

/** The names once each, as Coder would match them (the first spelling of each is kept). */
export const distinctTemplates = (names: readonly string[]): string[] => {
  const seen = new Set<string>();
  return names.filter((name) => !seen.has(templateKey(name)) && seen.add(templateKey(name)));
};

export interface UnknownTemplate {
  /** The name as configured. */
  readonly name: string;
  /** The closest name Coder has, when one is close enough to be what was meant. */
  readonly suggestion?: string;
}

/** The configured names that match no template Coder has, each with a did-you-mean. */
export const unknownTemplates = (
  configured: readonly string[],
  inCoder: readonly string[],
): UnknownTemplate[] => {
  const known = new Set(inCoder.map(templateKey));
  return distinctTemplates(configured)
    .filter((name) => !known.has(templateKey(name)))
    .map((name) => {
      const suggestion = closest(name, inCoder);
      return suggestion === undefined ? { name } : { name, suggestion };
    });
};

/** How many of Coder's template names an error message lists before "… and N more". */
const LISTED_TEMPLATES = 20;

/**
 * A workspace group names a template Coder does not have (renamed, deleted, misspelt). Its running
 * count would be 0 whatever runs, and a floor of 0 would let the group shrink under running
 * workspaces; so its demand is unknown and every current node is kept until someone fixes the
 * config or the template (alarm `ScalingTemplatesUnknown`, runbook `scaling-templates-unknown`).
 */
export class UnknownTemplatesError extends Error {
  override readonly name = 'UnknownTemplatesError';
  constructor(
    readonly group: string,
    readonly unknown: readonly UnknownTemplate[],
    inCoder: readonly string[],
  ) {
    const named = unknown
      .map((t) => `"${t.name}"${t.suggestion ? ` (did you mean "${t.suggestion}"?)` : ''}`)
      .join(', ');
    const sorted = [...inCoder].sort((a, b) => a.localeCompare(b));
    const listed = sorted.slice(0, LISTED_TEMPLATES).join(', ');
    const more = sorted.length > LISTED_TEMPLATES ? ` and ${sorted.length - LISTED_TEMPLATES} more` : '';
    super(
      `${unknown.length === 1 ? 'template' : 'templates'} ${named} of node group ${group} ` +
        `${unknown.length === 1 ? 'is not a template' : 'are not templates'} in Coder ` +
        `(Coder has ${sorted.length === 0 ? 'no templates' : `${listed}${more}`}); ` +
        'its running workspaces cannot be counted, so every current node is kept: fix the template names in the scaling config',
    );
  }
}
